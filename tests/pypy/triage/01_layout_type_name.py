# HEAD build. universal: SIGSEGV in HPyType_GetName; debug: abort "Invalid usage of already closed handle"
from loader import load, MODE
qs = load("quickstart", MODE)
print(qs.add(40, 2))      # fine: ctx_* before h_Builtins are at the same offsets
qs.add("x", 2)            # error message -> type_name() -> HPyType_GetName -> crash
