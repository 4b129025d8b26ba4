"""Receiving studies from PACS and modalities over DICOM networking (PS3.7, PS3.4).

``listener`` runs a Storage SCP and Verification SCP (pynetdicom) that accepts only registered
calling AE titles (:class:`archive.models.RemoteNode`); ``session`` turns one association into
one ``Upload`` queued on release and discarded on abort; ``key_objects`` reads IHE TCE Key
Object Selection documents and de-identifies their text; ``teaching_files`` pre-fills the draft
case once the upload has been processed (Celery task in ``tasks``).
"""

__all__ = ["contexts", "key_objects", "listener", "nodes", "session", "tasks", "teaching_files"]
