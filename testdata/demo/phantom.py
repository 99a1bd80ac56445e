"""Writes a synthetic CT-like phantom as raw signed 16-bit little-endian
samples (stored values; Rescale Intercept -1024 brings them to HU).

usage: phantom.py SEED SIZE OUT.raw
Ellipses of soft tissue, fat, air (lungs) and bone with seeded noise, so each
seed gives a distinct picture that still looks like an axial slice."""
import random, struct, sys, math

seed, size, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rnd = random.Random(seed)
ellipses = [  # cx, cy, rx, ry, angle, HU
    (0.5, 0.5, 0.42, 0.34, 0, 40),            # body
    (0.5, 0.5, 0.40, 0.32, 0, -90),           # fat ring inside
    (0.5, 0.5, 0.36, 0.28, 0, 45),            # soft tissue
]
for side in (0.33, 0.67):                     # lungs
    ellipses.append((side + rnd.uniform(-0.03, 0.03), 0.47 + rnd.uniform(-0.04, 0.04),
                     0.11 + rnd.uniform(-0.02, 0.03), 0.17 + rnd.uniform(-0.03, 0.03),
                     rnd.uniform(-0.3, 0.3), -850))
ellipses.append((0.5, 0.72, 0.05, 0.05, 0, 700))   # spine
ellipses.append((0.5, 0.68, 0.025, 0.02, 0, 30))   # canal
for _ in range(rnd.randint(2, 5)):                  # lesions, organs
    ellipses.append((rnd.uniform(0.3, 0.7), rnd.uniform(0.3, 0.65), rnd.uniform(0.02, 0.07),
                     rnd.uniform(0.02, 0.07), rnd.uniform(0, 3.14), rnd.choice([60, 120, -20, 300])))
buf = bytearray()
for y in range(size):
    for x in range(size):
        u, v = (x + 0.5) / size, (y + 0.5) / size
        hu = -1000
        for cx, cy, rx, ry, a, val in ellipses:
            dx, dy = u - cx, v - cy
            ca, sa = math.cos(a), math.sin(a)
            px, py = dx * ca + dy * sa, -dx * sa + dy * ca
            if (px / rx) ** 2 + (py / ry) ** 2 <= 1:
                hu = val
        hu += rnd.gauss(0, 12)
        stored = max(-2048, min(3071, int(round(hu + 1024))))
        buf += struct.pack("<h", stored)
open(out, "wb").write(buf)
