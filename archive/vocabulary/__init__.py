"""The diagnosis vocabulary: the ICD-10 catalogue (``catalogue``, ``loading``), the editor's
diagnosis suggestions (``selectors``) and the services that create, link and change diagnoses
(``services``)."""
