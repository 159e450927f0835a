"""Reference values of 2F1(a, b; c; z) at 30 significant digits with mpmath, for the Rust tests.

usage: pip install mpmath && python tests/data/hyp2f1_reference.py > tests/data/hyp2f1_reference.csv
The cases cover the shapes twinsim's likelihoods use (Pareto/NBD: c = a + 1; BG/NBD conditional
expectation: c = a + b + x - 1) from small z to z very near 1, plus negative z.
"""
import mpmath as mp

mp.mp.dps = 40
cases = []
for (r, s, x) in [(0.553, 0.606, 0), (0.553, 0.606, 3), (0.2, 0.1, 12), (2.0, 5.0, 40), (0.05, 1.5, 1)]:
    for z in [0.01, 0.3, 0.59, 0.61, 0.8, 0.95, 0.99, 0.9999]:
        cases.append((r + s + x, s + 1, r + s + x + 1, z))
        cases.append((r + s + x, r + x, r + s + x + 1, z))
for (r, a, b, x) in [(0.243, 0.793, 2.426, 0), (0.243, 0.793, 2.426, 5), (1.5, 3.0, 0.5, 20)]:
    for z in [0.1, 0.5, 0.65, 0.9]:
        cases.append((r + x, b + x, a + b + x - 1, z))
# The Euler-transformed Pareto/NBD form at large x and z near 1 (the integrand's factors
# under- and overflow separately there).
for x in [50, 202, 1000]:
    for z in [0.96, 0.995, 0.99999]:
        cases.append((1.0, 1.0 + x, 3.0 + x, z))
for z in [-0.5, -0.9, -4.0, -50.0]:
    cases.append((1.3, 2.7, 4.1, z))
    cases.append((0.5, 0.25, 1.5, z))
print("a,b,c,z,value")
for a, b, c, z in cases:
    print(f"{a!r},{b!r},{c!r},{z!r},{mp.nstr(mp.hyp2f1(a, b, c, z), 30)}")
