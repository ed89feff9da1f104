"""Performance benchmarks and the reference implementations they (and the tests) compare against."""
