using System.CommandLine;
using CodeGenChunk.Tool.Commands;

namespace CodeGenChunk.Tool;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("cgc: the CodeGenChunk build-time tool (import models, pack weights, synthesize test weights, inspect layouts, calibrate precision policies, reorder hidden units for routing, evaluate and plot accuracy).")
        {
            ImportCommand.Create(),
            PackCommand.Create(),
            SynthCommand.Create(),
            InspectCommand.Create(),
            CalibrateCommand.Create(),
            EvalCommand.Create(),
            ReportCommand.Create(),
            ReorderCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}
