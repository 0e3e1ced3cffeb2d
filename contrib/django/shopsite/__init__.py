"""A tiny Django shop site that hands its customers' exports to Apache."""
