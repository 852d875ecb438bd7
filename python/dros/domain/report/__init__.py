"""Reports (API.md §13): preview, versioned save, and the latest PDF of a study."""
