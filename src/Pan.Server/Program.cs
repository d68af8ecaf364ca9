using Pan.Server.Hosting;

return await PanCommandLine.RunAsync(args);

/// <summary>Entry point; <c>public partial</c> so tests can reference the server assembly by it.</summary>
public partial class Program;
