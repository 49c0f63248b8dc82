"""Engine API dicts (``/images/json``, ``/containers/json``) for the pin audit and the image_digest
plans: a scene with a moved tag, a dangling pinned image, a locally built image and an image with
two repo digests. Written by hand in the engine's shapes (the real engine is in the integration tests)."""

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
IDX = "sha256:" + "3" * 64
REG = "127.0.0.1:5000/app"


def image(iid, tags=(), digests=()):
    return {"Id": "sha256:" + iid * 64, "RepoTags": list(tags) or None, "RepoDigests": list(digests)}


def container(name, ref, iid, state="running", labels=None):
    return {"Id": name + "-id", "Names": ["/" + name], "Image": ref, "ImageID": "sha256:" + iid * 64,
            "State": state, "Labels": labels or {}}


def pin_scene():
    """``(images, containers)``: the tag REG:1 moved to new content while app-old runs the old,
    pinned (now dangling) image; tool runs a local image; bb runs busybox pinned by digest."""
    images = [
        image("a", tags=[REG + ":1"], digests=[REG + "@" + NEW]),   # the tag moved to new content
        image("b", digests=[REG + "@" + OLD]),                      # the old pinned image, now dangling
        image("c", tags=["local/tool:dev"]),                        # built locally, no digest
        image("d", tags=["busybox:latest"], digests=["busybox@" + IDX, "127.0.0.1:5000/busybox@" + NEW]),
    ]
    containers = [
        container("app-old", REG + ":1", "b"),                       # runs the pinned image, tag moved: stale
        container("tool", "local/tool:dev", "c"),                     # unpinned
        container("bb", "busybox@" + IDX, "d"),                       # pinned by digest in its reference
        container("stopped", "docker.io/library/busybox:latest", "d", state="exited"),
    ]
    return images, containers
