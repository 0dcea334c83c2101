"""The venue tree (hub → branch → station → community), rooms, opening hours and closures."""
