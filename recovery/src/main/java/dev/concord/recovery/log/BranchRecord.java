package dev.concord.recovery.log;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * One branch as the commit decision records it: the resource's configured name (recovery re-obtains the resource
 * by this name; XAResources are never serialized), the branch number (the bqual) and opaque data the resource
 * needs to finish the branch without the original connection (empty for XA databases; broker offsets for
 * RocketMQ).
 */
public final class BranchRecord {
    private final String resourceName;
    private final int branch;
    private final byte[] recoveryData;

    public BranchRecord(String resourceName, int branch, byte[] recoveryData) {
        this.resourceName = Objects.requireNonNull(resourceName, "resourceName");
        if (resourceName.isEmpty()) {
            throw new IllegalArgumentException("resourceName must not be empty");
        }
        if (branch < 1) {
            throw new IllegalArgumentException("branch must be >= 1, got " + branch);
        }
        this.branch = branch;
        this.recoveryData = recoveryData == null ? new byte[0] : recoveryData.clone();
    }

    public String resourceName() {
        return resourceName;
    }

    public int branch() {
        return branch;
    }

    /** A copy of the resource's recovery data; empty when it has none. */
    public byte[] recoveryData() {
        return recoveryData.clone();
    }

    /** The length of the recovery data, without copying it. */
    public int recoveryDataLength() {
        return recoveryData.length;
    }

    /** Puts the recovery data into {@code out}, without copying it first. */
    public void writeRecoveryData(ByteBuffer out) {
        out.put(recoveryData);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BranchRecord b && b.branch == branch && b.resourceName.equals(resourceName)
                && Arrays.equals(b.recoveryData, recoveryData);
    }

    @Override
    public int hashCode() {
        return (resourceName.hashCode() * 31 + branch) * 31 + Arrays.hashCode(recoveryData);
    }

    @Override
    public String toString() {
        return resourceName + "#" + branch + (recoveryData.length == 0 ? "" : "+" + recoveryData.length + "B");
    }
}
