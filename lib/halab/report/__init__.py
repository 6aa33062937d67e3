"""The Allure report of a failover run: evidence a reader outside the team can judge a verdict by.

Pure, testable pieces the failover fixtures call: the budget table and the oracle's reasoning as
text (``budget``), the timeline picture (``plot``), redaction of every text that leaves the run
(``redact``), thin wrappers over the ``allure`` API (``allure_io``), the report-wide files
(``environment``) and the offline HTML generation (``generate``).
"""
