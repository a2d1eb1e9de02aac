package dev.concord.coordinator;

/** A branch's answer to prepare. */
public enum Vote {
    /** Prepared: the branch takes part in phase 2. */
    YES,
    /** Nothing to commit: the branch leaves the transaction. */
    READ_ONLY,
    /** The resource rolled the branch back (XA_RB*): the transaction must roll back. */
    NO,
    /** Prepare failed with an error: the transaction must roll back, and the branch state is uncertain. */
    FAILED
}
