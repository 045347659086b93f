"""Pixel and file formats, with no knowledge of clients or requests: NPY headers and arrays,
GeoTIFF reading and writing, PNG/JPEG decoding, format detection by magic bytes. A leaf
package: it imports only :mod:`eerest.errors` and the optional libraries it wraps."""
