"""The digital culture centre: the resource library, local-culture collections, plays (remote service)
and culture brands."""
