using System.Diagnostics;

namespace Runbooks.Scripting;

/// <summary>The line of a <c>.csx</c> script that called into the DSL, so a mistake is reported where the author looks.</summary>
internal static class ScriptLine
{
    /// <summary><c>file(line,col)</c> of the nearest script frame on the current stack, or null when C# called.</summary>
    public static string? Caller()
    {
        var frame = new StackTrace(fNeedFileInfo: true).GetFrames()
            .FirstOrDefault(f => f.GetFileName()?.EndsWith(".csx", StringComparison.Ordinal) == true);
        return frame is null ? null : $"{frame.GetFileName()}({frame.GetFileLineNumber()},{frame.GetFileColumnNumber()})";
    }
}
