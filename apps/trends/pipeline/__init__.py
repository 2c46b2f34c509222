"""Pipeline stages: each a plain function over a batch, run in order by ``apps.trends.pipeline.runner``."""
