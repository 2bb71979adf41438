import importlib.util, os, shutil, sys, tempfile, faulthandler
import hpy.universal
faulthandler.enable()
MODES = {"universal": hpy.universal.MODE_UNIVERSAL, "debug": hpy.universal.MODE_DEBUG,
         "trace": hpy.universal.MODE_TRACE}

def load(name, mode="universal"):
    so = os.environ["HPYRS_%s_SO" % name.upper()]
    d = tempfile.mkdtemp(prefix=mode)
    target = os.path.join(d, os.path.basename(so))
    shutil.copy(so, target)
    spec = importlib.util.spec_from_file_location(name, target)
    return hpy.universal.load(name, target, spec, mode=MODES[mode])

MODE = sys.argv[1] if len(sys.argv) > 1 else "universal"
