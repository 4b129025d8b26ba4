"""Receiving studies from PACS and modalities over DICOM networking (PS3.7, PS3.4).

``listener`` runs a Storage SCP and Verification SCP (pynetdicom) that accepts only registered
calling AE titles (:class:`archive.models.RemoteNode`), from the node's allowed peer addresses
when it has any (``peers``); ``session`` turns one association into one ``Upload`` queued on
release and discarded on abort; ``filing`` keeps a released study whose filing failed for a
curator (retry, download, discard); ``key_objects`` reads IHE TCE Key Object Selection
documents and de-identifies their text; ``teaching_files`` pre-fills the draft case once the
upload has been processed (Celery task in ``tasks``).
"""

__all__ = [
    "contexts",
    "filing",
    "key_objects",
    "listener",
    "nodes",
    "peers",
    "session",
    "tasks",
    "teaching_files",
]
