"""Input and output: WPP-format CSV folders, workbooks, netCDF."""
