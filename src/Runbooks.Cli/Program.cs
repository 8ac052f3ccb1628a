return await Runbooks.Cli.CommandLine.RunAsync(args).ConfigureAwait(false);
