"""safeship's HTTP faces: the feature-flag service (evaluation, management, streaming)."""
