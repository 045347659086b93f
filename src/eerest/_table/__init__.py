"""``read_table``: features of a table asset or a FeatureCollection expression, every page,
as a GeoDataFrame, an Arrow table or a GeoParquet file."""
