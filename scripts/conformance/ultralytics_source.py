"""Importing ultralytics from a source checkout, as the FastSAM kit does (nothing installed).

Shared by the conformance reference (fastsam_reference_ultralytics.py) and the bench's peer
(bench/peer/fastsam_ultralytics.py).
"""
import importlib.metadata
import os
import sys


def use_ultralytics_source(ultralytics_src, torchvision_stub=None):
    """Put ULTRALYTICS_SRC (the folder holding the `ultralytics` package) first on sys.path,
    import torchvision (from TORCHVISION_STUB when given: the kit's pure-torch
    torchvision.ops.nms), and answer ultralytics' metadata lookup for a stub that has none.
    Its presence in sys.modules makes ultralytics' NMS take torchvision.ops.nms."""
    os.environ.setdefault('YOLO_OFFLINE', '1')
    sys.path.insert(0, os.path.abspath(ultralytics_src))
    if torchvision_stub:
        sys.path.insert(0, os.path.abspath(torchvision_stub))
    try:
        import torchvision
    except ImportError:
        raise SystemExit('torchvision does not import: install it or pass --torchvision-stub')
    try:
        importlib.metadata.version('torchvision')
    except importlib.metadata.PackageNotFoundError:
        # The stub has no package metadata, which ultralytics.utils reads at import: answer its __version__.
        version = importlib.metadata.version
        importlib.metadata.version = lambda name: torchvision.__version__ if name == 'torchvision' else version(name)
