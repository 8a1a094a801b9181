"""The seed's example queries, offered as one-click chips on the page.

Kept in Python (served in /config.json) so the page and the end-to-end test read the
same list, word for word as the seed's README gives them.
"""

from __future__ import annotations

from typing import Final

#: The seed's "Quick Query Examples" for the LLM box, in the seed's order.
QUICK_QUERIES: Final[tuple[str, ...]] = (
    "How many safety incidences occurred in BP operations in 2024?",
    "Describe BP oil drill operations and hard hat requirements",
    "Give me the most frequent IP devices generating error 400",
    "List economic and social sustainability statements",
)

#: The seed's image-search examples.
IMAGE_EXAMPLES: Final[tuple[str, ...]] = (
    "Get turbine site that has workers without hats",
    "Get site with engineer holding a tablet",
)
