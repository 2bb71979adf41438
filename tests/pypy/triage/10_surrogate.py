# any build, any mode. universal/trace: SystemError(CheckError); debug: the same, then the leak
# detector's report aborts (Fatal RPython error in HPyTuple_FromArray) on a leaked NULL DebugHandle
from loader import load, MODE
qs = load("quickstart", MODE)
try:
    qs.hello("\ud800")    # CPython: UnicodeEncodeError
except BaseException as e:
    print(type(e).__name__, e)
from hpy.universal import _debug
if MODE == "debug":
    gen = _debug.new_generation()
    try: qs.hello("\ud800")
    except SystemError: pass
    leaks = _debug.get_open_handles(gen)
    print(len(leaks), "leaked handle(s)")
    print(leaks[0].obj)   # aborts the process
