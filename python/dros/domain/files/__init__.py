"""The file endpoints (§6): thumbnails, DICOM files and PNG captures of the study images."""
