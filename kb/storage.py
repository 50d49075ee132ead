"""Static files storage for production: hashed names, compressed by whitenoise."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns):
    kept = []
    for extension, rules in patterns:
        rules = tuple(
            rule
            for rule in rules
            if "sourceMappingURL" not in (rule[0] if isinstance(rule, tuple) else rule)
        )
        kept.append((extension, rules))
    return tuple(kept)


class StaticStorage(CompressedManifestStaticFilesStorage):
    # Vendored files are kept byte-for-byte as published (see static/vendor/SHA256SUMS)
    # and name source maps we do not ship; do not rewrite those references.
    patterns = _without_source_maps(ManifestStaticFilesStorage.patterns)
