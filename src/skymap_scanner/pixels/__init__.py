"""HEALPix pixels of a scan: the data types of a pixel's fits (``types``) and which pixels to scan
(``choose``: the nside progression, the first round and the refinement rule)."""
