package dev.concord.recovery.log.file;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the channels of segment files. The default is {@link FileChannel#open(Path, OpenOption...)}; tests pass
 * one that wraps the channel to make writes or forces fail the way a full or broken disk does.
 */
@FunctionalInterface
public interface ChannelOpener {
    /** Opens a channel on a segment file. */
    FileChannel open(Path path, OpenOption... options) throws IOException;
}
