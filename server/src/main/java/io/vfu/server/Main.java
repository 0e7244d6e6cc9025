package io.vfu.server;

import io.vfu.server.cli.CliOptions;

/** Entry point of {@code vfu-server}. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        CliOptions options;
        try {
            options = CliOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("vfu-server: " + e.getMessage());
            System.err.print(CliOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.print(CliOptions.USAGE);
            return;
        }
        System.err.println("vfu-server: serving devices lands with issue 4; only --help works yet");
        System.exit(2);
    }
}
