namespace CodeGenChunk.Model.Diagnostics;

public enum Severity
{
    Error,
    Warning,
}

/// <summary>One entry of the diagnostic catalog: id, title, message format (with {0}… holes) and severity.</summary>
public sealed record DiagnosticInfo(string Id, string Title, string MessageFormat, Severity Severity)
{
    public string HelpLink => "https://github.com/codegenchunk/codegenchunk/blob/main/docs/diagnostics.md#" + Id.ToLowerInvariant();
}
