"""`task/inspection/*` (§15): the HTTP face of the acquisition task (`dros.acquisition`)."""
