# Entry point of the sandbox runtime: python3 -I -B /opt/kb/runtime/run.py
# (-I leaves the script's directory off sys.path, so it is added here, last).
import sys

_root = __file__.rpartition('/')[0] or '.'
sys.path.append(_root)

from kbrt.server import main  # noqa: E402

main(_root)
