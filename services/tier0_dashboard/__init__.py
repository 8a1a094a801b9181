"""The SRE web dashboard: the seed's buttons and queries in a browser, without a build step.

Why a tiny FastAPI app and no React: the machines that build and test tier0 are
offline and have no Node toolchain in the image, so the page is plain HTML, CSS and
JavaScript modules served as files. The browser calls the region APIs directly (they
allow it through CORS_ORIGINS); this process only tells the page where they are
(``/config.json``) and serves the files.
"""
