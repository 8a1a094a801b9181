"""Local process environment of tier0: `make up` / `make down` / `make status` and the test servers."""
