"""The Redis queries behind the endpoints, one module per resource.

Routes never build Redis commands themselves: they call these functions, which issue
one pipelined round trip each where they can, observe its latency, and return plain
typed values the routes turn into response models.
"""
