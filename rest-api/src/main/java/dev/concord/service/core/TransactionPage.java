package dev.concord.service.core;

import java.util.List;

/**
 * One page of a transaction listing, newest first.
 *
 * @param items      the transactions of this page
 * @param nextCursor the cursor for the next page, or null when this is the last one
 */
public record TransactionPage(List<TransactionView> items, String nextCursor) {
}
