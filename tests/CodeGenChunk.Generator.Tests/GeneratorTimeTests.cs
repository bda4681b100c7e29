using System.Diagnostics;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace CodeGenChunk.Generator.Tests;

/// <summary>The generator stays well inside an IDE keystroke budget on the largest sample.</summary>
[TestClass]
public sealed class GeneratorTimeTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>The requirement is a bound, not a benchmark: this is the project's one timing assertion.</summary>
    [TestMethod]
    public void BigNetF32GeneratesInUnderOneSecond()
    {
        var text = File.ReadAllText(RepoPaths.BigNetF32);
        var compilation = GeneratorHarness.CreateCompilation();
        GeneratorHarness.CreateDriver(new InMemoryAdditionalText(RepoPaths.BigNetF32, text)).RunGenerators(compilation); // warm-up

        var times = new double[5];
        for (var i = 0; i < times.Length; i++)
        {
            var driver = GeneratorHarness.CreateDriver(new InMemoryAdditionalText(RepoPaths.BigNetF32, text));
            var watch = Stopwatch.StartNew();
            driver = driver.RunGenerators(compilation);
            times[i] = watch.Elapsed.TotalMilliseconds;
            Assert.HasCount(2, driver.GetRunResult().Results[0].GeneratedSources);
        }

        var median = times.OrderBy(t => t).ElementAt(times.Length / 2);
        TestContext.WriteLine("BigNet f32 generation: median " + median.ToString("F1", System.Globalization.CultureInfo.InvariantCulture) + " ms of " +
            string.Join(", ", times.Select(t => t.ToString("F1", System.Globalization.CultureInfo.InvariantCulture))) + " ms");
        Assert.IsLessThan(1000.0, median, "Median generator time in ms.");
    }
}
