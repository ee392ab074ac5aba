"""The standing fault suite: kills, full disks, races, hostile names and parameter files."""
