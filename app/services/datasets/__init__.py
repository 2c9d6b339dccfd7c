"""Datasets once stored: overview, gallery, patch images, labels, exports, import jobs' pages."""
