"""Reading datasets in: upload bounds, DICOM and pre-cut patches, annotations, patch cutting."""
