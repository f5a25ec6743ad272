"""What every topic shares: seeded random streams (and the rounding-perturbation switch of the
regression ensemble), the generic init/step loop with its recorded trajectory, configurations mapped
over processes or a Dask cluster, and a small ResNet. Imports no topic package."""
