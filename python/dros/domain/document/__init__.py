"""The study's own documents besides the X-ray views: the patient portrait (`study/portrait`) and
post-processed derived images (`image/post_proc`); the report PDF uses the same writers."""
