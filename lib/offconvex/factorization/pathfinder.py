"""Pathfinder-style images: are the two markers joined by one dashed path? (Linsley et al., NeurIPS 2018).

The 2022-07-15 post (Razin, Maman & Cohen, ICML 2022, Figure 6) measures locality of a ResNet18 on this
task: the longer the path, the farther apart the pixels whose *interaction* decides the label. This is
our own generator, with the geometry of the authors' data (300-pixel window downsampled to 150: paddles
of 5 px separated by 2 × 3 px margins, thickness 2, marker radius 3, seeds 27 px apart, 22 px padding)
expressed as a :class:`Geometry` that scales with the image size.

Every image holds two *target* paths ``A`` and ``B`` of ``path_length`` segments that start
``seed_distance`` apart and never come closer than ``clearance``. A positive image marks both ends of
``A``; a negative one marks the start of ``A`` and the end of ``B``, so each marker has its own path and
the two classes draw the same amount of ink. This is the pairing of Linsley et al.'s generator and of the
authors' adaptation (negatives are the start of one target path and the end of the other).

*Marker distance carries no label information.* If ``B`` simply grows from its seed, as in those
generators, a negative's markers are ``|seed_distance * u + reach_B|`` apart while a positive's are
``|reach_A|``: the offset between the seeds broadens and lengthens the negatives' distances. Measured on 3000
scenes per class and path length at 150 px, the old construction gave positives 16.0 ± 0.4 px against
negatives 22.0 ± 6.9 px at path length 3 (KS statistic 0.76), and 45.0 ± 3.6 against 49.3 ± 9.0 px at
length 9 (KS 0.57): a classifier could beat chance from the two markers alone, without tracing a path.
Here both walks are drawn first, and ``B``'s start is then placed on the circle of radius
``seed_distance`` around ``A``'s start at the point (one of two, at random) that puts ``B``'s end exactly
as far from ``A``'s start as ``A``'s end (law of cosines; proposals with no such point are redrawn). The
scene is drawn before the label and both far ends are equidistant from the first marker, so in every
scene the marker distance is the same whichever label it gets: the two classes' distance distributions
are identical, and the unmarked far end sits at that same distance too. Paths must be long enough for
such a point to exist (``2 * path_length * segment_length > seed_distance``).

Short *distractor* paths (the authors' rule: about ``90 / path_length`` of them, ``path_length / 3``
segments each) fill the image without touching the targets or markers. Paths are random walks with
bounded turns; each segment is drawn as one dash centred on it. Everything is vectorised over images
and sampled by batched rejection from one ``torch.Generator``, then rasterised at twice the
resolution and averaged down (anti-aliasing).
"""

import math
from typing import NamedTuple

import torch

ANTIALIAS = 2  # rasterise at this multiple of the resolution, then average-pool
MAX_ROUNDS = 1000  # rejection rounds for the two target paths before giving up


class Geometry(NamedTuple):
    """Drawing parameters, in pixels of the output image."""

    segment_length: float  # distance between consecutive vertices of a path (paddle + two margins)
    dash_fraction: float  # drawn share of each segment (1: a solid line)
    thickness: float
    marker_radius: float
    seed_distance: float  # distance between the starts of the two target paths
    padding: float  # target paths stay this far inside the border
    max_turn: float  # largest turn between consecutive segments, radians
    clearance: float  # least distance between the target paths, and from distractors to them


class Scenes(NamedTuple):
    """The sampled geometry of ``n`` images (points are ``(x, y)`` in output pixels)."""

    targets: torch.Tensor  # (n, 2, path_length + 1, 2) vertices of paths A and B
    distractors: torch.Tensor  # (n, D, distractor_length + 1, 2)
    distractor_drawn: torch.Tensor  # (n, D) bool: placed (a slot that found no room is left out)
    markers: torch.Tensor  # (n, 2, 2) the two marker centres
    labels: torch.Tensor  # (n,) float 0/1: 1 when both markers are ends of path A


def default_geometry(image_size: int) -> Geometry:
    """The authors' 300-pixel settings scaled to ``image_size``, with floors that keep small images legible."""
    _check_size(image_size)
    scale = image_size / 300
    thickness, marker_radius = max(2 * scale, 1.0), max(3 * scale, 1.0)
    clearance = marker_radius + thickness + 1.5  # a marker never touches the other path, even anti-aliased
    return Geometry(segment_length=max(11 * scale, 3.0), dash_fraction=5 / 11, thickness=thickness,
                    marker_radius=marker_radius, seed_distance=max(27 * scale, 2 * clearance),
                    padding=max(22 * scale, marker_radius + thickness + 1), max_turn=math.pi / 5,
                    clearance=clearance)


def distractor_counts(path_length: int) -> tuple[int, int]:
    """``(number, segments each)`` of distractor paths: the authors' ``30 / (L/3)`` paths of ``L/3`` segments."""
    return round(90 / path_length), max(1, round(path_length / 3))


def _check_size(image_size) -> None:
    if not isinstance(image_size, int) or image_size < 16:
        raise ValueError(f"image_size must be an int >= 16 pixels, got {image_size!r}")


def _uniform(shape, low, high, generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)


def random_walks(starts, headings, n_segments: int, geometry: Geometry, generator) -> torch.Tensor:
    """Vertices ``(..., n_segments + 1, 2)`` of walks from ``starts`` ``(..., 2)``, first step along ``headings``.

    Each later step turns by an angle uniform in ``[-max_turn, max_turn]``.
    """
    turns = _uniform((*headings.shape, n_segments), -geometry.max_turn, geometry.max_turn, generator)
    angles = headings[..., None] + torch.cumsum(turns, -1) - turns[..., :1]  # the first step is not turned
    steps = geometry.segment_length * torch.stack([torch.cos(angles), torch.sin(angles)], -1)
    return torch.cat([starts[..., None, :], starts[..., None, :] + torch.cumsum(steps, -2)], -2)


def dense_points(vertices, spacing: float, fraction: float = 1.0) -> torch.Tensor:
    """Points every ``<= spacing`` pixels along the middle ``fraction`` of each segment: ``(..., S * k, 2)``."""
    per_segment = max(2, math.ceil(fraction * torch.linalg.vector_norm(
        vertices[..., 1, :] - vertices[..., 0, :], dim=-1).max().item() / spacing) + 1)
    t = torch.linspace((1 - fraction) / 2, (1 + fraction) / 2, per_segment, dtype=vertices.dtype)
    start, end = vertices[..., :-1, None, :], vertices[..., 1:, None, :]
    points = start + t[:, None] * (end - start)  # (..., S, k, 2)
    return points.flatten(-3, -2)


def _inside(vertices, low, high) -> torch.Tensor:
    return ((vertices >= low) & (vertices <= high)).flatten(-2).all(-1)


def _min_distance(points_a, points_b) -> torch.Tensor:
    """Smallest distance between two point sets per batch row: ``(n, P, 2), (n, Q, 2) -> (n,)``."""
    return torch.cdist(points_a.float(), points_b.float()).flatten(1).amin(1)


def _target_pairs(n, path_length, image_size, geometry, generator):
    """One proposal of paths A and B per image, ``(n, 2, path_length + 1, 2)``, and whether it exists ``(n,)``.

    Both walks are drawn from the origin with uniform headings; B is then moved so that it starts
    ``seed_distance`` from A's start *and* ends exactly as far from A's start as A's own end (one of the
    two such starting points on the circle around A's start, at random). No placement exists when the two
    reaches are too short for the start gap (the row is then rejected). The pair is shifted to a uniformly
    random position among those that keep it inside the padding (pairs too large to fit are left where
    they are and rejected later).
    """
    walks = random_walks(torch.zeros(n, 2, 2, dtype=torch.float64), _uniform((n, 2), 0, 2 * math.pi, generator),
                         path_length, geometry, generator)
    reach_a = torch.linalg.vector_norm(walks[:, 0, -1], dim=-1)  # |end - start| of A: the positive's distance
    offset_b = walks[:, 1, -1]
    reach_b = torch.linalg.vector_norm(offset_b, dim=-1)
    gap = geometry.seed_distance
    # |gap * u(direction) + offset_b| = reach_a  <=>  cos(direction - angle(offset_b)) = cosine (law of cosines)
    cosine = (reach_a**2 - gap**2 - reach_b**2) / (2 * gap * reach_b)
    side = torch.where(_uniform((n,), 0, 1, generator) < 0.5, -1.0, 1.0)
    direction = torch.atan2(offset_b[:, 1], offset_b[:, 0]) + side * torch.acos(cosine.clamp(-1, 1))
    start_b = gap * torch.stack([torch.cos(direction), torch.sin(direction)], -1)
    pairs = walks + torch.stack([torch.zeros_like(start_b), start_b], 1)[:, :, None, :]
    lowest, highest = pairs.flatten(1, 2).amin(1), pairs.flatten(1, 2).amax(1)  # (n, 2) bounding boxes
    room = (image_size - 2 * geometry.padding - (highest - lowest)).clamp(min=0)
    shift = geometry.padding - lowest + room * _uniform((n, 2), 0, 1, generator)
    return pairs + shift[:, None, None, :], cosine.abs() <= 1


def _valid_targets(targets, image_size, geometry) -> torch.Tensor:
    inside = _inside(targets, geometry.padding, image_size - geometry.padding).all(1)
    points = dense_points(targets, 1.0)  # the paths' true distance is at most 0.5 below the points'
    return inside & (_min_distance(points[:, 0], points[:, 1]) >= geometry.clearance + 0.5)


def _proposal(n, path_length, image_size, geometry, generator):
    targets, exists = _target_pairs(n, path_length, image_size, geometry, generator)
    return targets, exists & _valid_targets(targets, image_size, geometry)


def sample_targets(n, path_length, image_size, geometry, generator) -> torch.Tensor:
    """Paths A and B for ``n`` images by batched rejection: inside the padding and ``clearance`` apart.

    B starts ``seed_distance`` from A's start and ends as far from it as A's end (see the module docstring).
    """
    if 2 * path_length * geometry.segment_length <= geometry.seed_distance:
        raise ValueError(f"path_length={path_length} is too short: two paths of {path_length} segments of "
                         f"{geometry.segment_length:g} px cannot end equally far from the start of one when "
                         f"they start {geometry.seed_distance:g} px apart")
    targets, valid = _proposal(n, path_length, image_size, geometry, generator)
    todo = ~valid
    for round_ in range(MAX_ROUNDS):
        if not todo.any():
            return targets
        if round_ == 20 and todo.all():
            break  # not one pair fitted in 20 rounds: the path is too long for the image
        proposal, valid = _proposal(int(todo.sum()), path_length, image_size, geometry, generator)
        targets[todo] = proposal
        todo[todo.clone()] = ~valid
    raise ValueError(f"could not place two separate paths of path_length={path_length} segments in a "
                     f"{image_size}-pixel image; use a larger image_size or a shorter path")


def _occupied(points, radius: float, size: int) -> torch.Tensor:
    """Bool ``(n, size, size)``: pixels within about ``radius`` of ``points`` ``(n, M, 2)`` (rounded up)."""
    grid = torch.zeros(points.shape[0], size, size, dtype=torch.bool)
    _stamp(grid, points, torch.ones(points.shape[:2], dtype=torch.bool), radius + 1.0)  # +1: pixel rounding
    return grid


def _hits(grid, points) -> torch.Tensor:
    """Whether any of ``points`` ``(n, D, P, 2)`` falls on an occupied pixel: ``(n, D)``."""
    size = grid.shape[-1]
    cells = torch.floor(points.flip(-1)).long().clamp(0, size - 1)
    image = torch.arange(grid.shape[0])[:, None, None].expand(cells.shape[:-1])
    return grid[image, cells[..., 0], cells[..., 1]].any(-1)


def sample_distractors(targets, n_paths, n_segments, image_size, geometry, generator, tries: int = 4):
    """``(n, n_paths, n_segments + 1, 2)`` distractor paths clear of the targets, and which were placed.

    Clearance is checked on a pixel mask of the targets dilated by ``clearance`` (plus a pixel, so the
    check errs on the safe side), as the authors' generator does.
    """
    n = targets.shape[0]
    # points 1 px apart miss the path by at most 0.5 px: dilate by that much more
    occupied = _occupied(dense_points(targets, 1.0).flatten(1, 2), geometry.clearance + 0.5, image_size)
    paths = torch.zeros(n, n_paths, n_segments + 1, 2, dtype=torch.float64)
    drawn = torch.zeros(n, n_paths, dtype=torch.bool)
    margin = geometry.thickness
    for _ in range(tries):  # slots still empty after ``tries`` proposals stay empty, as in the authors' data
        proposal = random_walks(_uniform((n, n_paths, 2), margin, image_size - margin, generator),
                                _uniform((n, n_paths), 0, 2 * math.pi, generator), n_segments, geometry, generator)
        clear = ~_hits(occupied, dense_points(proposal, 0.5))
        fits = ~drawn & clear & _inside(proposal, margin, image_size - margin)
        paths[fits], drawn = proposal[fits], drawn | fits
    return paths, drawn


def sample_scenes(n: int, path_length: int, generator: torch.Generator, image_size: int = 150,
                  geometry: Geometry | None = None) -> Scenes:
    """Geometry of ``n`` images, exactly half of them positive (in a random order)."""
    _check_size(image_size)
    if not isinstance(path_length, int) or path_length < 1:
        raise ValueError(f"path_length must be a positive int (segments), got {path_length!r}")
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    geometry = geometry or default_geometry(image_size)
    targets = sample_targets(n, path_length, image_size, geometry, generator)
    paths, drawn = sample_distractors(targets, *distractor_counts(path_length), image_size, geometry, generator)
    labels = torch.randperm(n, generator=generator) < (n + 1) // 2
    ends = torch.where(labels[:, None], targets[:, 0, -1], targets[:, 1, -1])
    return Scenes(targets, paths, drawn, torch.stack([targets[:, 0, 0], ends], 1), labels.float())


def _disk_offsets(radius: float) -> torch.Tensor:
    r = math.ceil(radius)
    grid = torch.stack(torch.meshgrid(torch.arange(-r, r + 1), torch.arange(-r, r + 1), indexing="ij"), -1)
    return grid[(grid.double() ** 2).sum(-1) <= radius ** 2 + 1e-9].view(-1, 2)  # (K, 2) as (dy, dx)


def _stamp(canvas, points, keep, radius) -> None:
    """Set the pixels of bool ``canvas`` ``(n, H, H)`` within ``radius`` of ``points`` ``(n, M, 2)`` where ``keep``."""
    n, size = canvas.shape[0], canvas.shape[-1]
    centre = torch.floor(points.flip(-1)).long()  # (row, col)
    pixels = centre[:, :, None, :] + _disk_offsets(radius).to(centre.device)  # (n, M, K, 2)
    ok = keep[:, :, None] & ((pixels >= 0) & (pixels < size)).all(-1)
    image = torch.arange(n, device=canvas.device)[:, None, None].expand(ok.shape)
    flat = (image * size + pixels[..., 0]) * size + pixels[..., 1]
    canvas.view(-1)[flat[ok]] = True  # every write sets the same value: order does not matter


def render(scenes: Scenes, image_size: int, geometry: Geometry | None = None, device="cpu") -> torch.Tensor:
    """Float32 images ``(n, 1, image_size, image_size)`` in [0, 1] (ink 1, background 0)."""
    _check_size(image_size)
    geometry = geometry or default_geometry(image_size)
    n, hi = scenes.targets.shape[0], image_size * ANTIALIAS
    canvas = torch.zeros(n, hi, hi, dtype=torch.bool, device=device)
    for vertices, drawn in ((scenes.targets, torch.ones(n, 2, dtype=torch.bool)),
                            (scenes.distractors, scenes.distractor_drawn)):
        points = dense_points(vertices, 0.25, geometry.dash_fraction)  # (n, paths, points, 2)
        keep = drawn[:, :, None].expand(points.shape[:-1])
        _stamp(canvas, (ANTIALIAS * points).flatten(1, 2).to(device), keep.flatten(1).to(device),
               ANTIALIAS * geometry.thickness / 2)
    _stamp(canvas, (ANTIALIAS * scenes.markers).to(device), torch.ones(n, 2, dtype=torch.bool, device=device),
           ANTIALIAS * geometry.marker_radius)
    coverage = canvas.view(n, image_size, ANTIALIAS, image_size, ANTIALIAS).sum((2, 4), dtype=torch.uint8)
    return (coverage.float() / ANTIALIAS**2)[:, None]


def pathfinder_images(n: int, path_length: int, generator: torch.Generator, image_size: int = 150,
                      geometry: Geometry | None = None, device="cpu", chunk: int = 512):
    """``n`` Pathfinder images ``(n, 1, image_size, image_size)`` float32 and labels ``(n,)`` float32 (0/1).

    Generated ``chunk`` images at a time (bounds memory); the result depends only on the generator's
    state, ``n`` and ``chunk``. ``device`` is where the images are rasterised and returned.
    """
    images, labels = [], []
    for start in range(0, n, chunk):
        scenes = sample_scenes(min(chunk, n - start), path_length, generator, image_size, geometry)
        images.append(render(scenes, image_size, geometry, device))
        labels.append(scenes.labels.float().to(device))
    return torch.cat(images), torch.cat(labels)
