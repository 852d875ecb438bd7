"""Reference implementations used by the benchmarks as the speed/quality baseline."""
