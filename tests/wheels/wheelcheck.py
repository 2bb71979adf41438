"""Checks shared by the wheel tests (test_wheel.py, test_native_wheel.py); conftest.py puts this
directory on sys.path, so the tests import it as `wheelcheck`."""
import base64
import hashlib
import zipfile


def assert_record_matches(wheel_path, dist_info_dir):
    """The wheel's `<dist_info_dir>/RECORD` lists every file of the wheel, each (but RECORD itself)
    with its sha256 and size."""
    with zipfile.ZipFile(wheel_path) as z:
        listed = set()
        for line in z.read(dist_info_dir + "/RECORD").decode().splitlines():
            path, digest, size = line.rsplit(",", 2)
            listed.add(path)
            if path.endswith("RECORD"):
                continue
            data = z.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == "sha256=" + expected and int(size) == len(data), path
        assert listed == set(z.namelist())
