"""The customers domain: the 360 profile and its parts."""
