# any mode. SIGSEGV (or silent heap corruption): PyPy's bf_releasebuffer gets a fresh HPy_buffer
# whose `internal` is uninitialised; hpy-rs frees Box<Export> from it
from loader import load, MODE
geo = load("geometry", MODE)
line = geo.Polyline()
line.append(1, 2)
m1, m2 = memoryview(line), memoryview(line)
m1.release()
m2.release()              # crash here (or at m1)
print(memoryview(line).tolist())
