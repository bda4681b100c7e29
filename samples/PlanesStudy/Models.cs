// The study's generated models (mlp6.*.cgc.json) behind one interface.
namespace Samples.PlanesStudy.Models;

public sealed partial class DenseInt8 : IStudyModel
{
}

public sealed partial class DensePlanes8 : IStudyModel
{
}

public sealed partial class ProxyK3Int8 : IStudyModel
{
}

public sealed partial class ProxyK2T2 : IStudyModel
{
}

public sealed partial class ProxyK2T5 : IStudyModel
{
}

public sealed partial class ProxyK3T2 : IStudyModel
{
}

public sealed partial class ProxyK3T5 : IStudyModel
{
}

public sealed partial class ProxyK4T2 : IStudyModel
{
}

public sealed partial class ProxyK4T5 : IStudyModel
{
}

public sealed partial class ProxyNone : IStudyModel
{
}

public sealed partial class ExactK2T2 : IStudyModel
{
}

public sealed partial class ExactK2T5 : IStudyModel
{
}

public sealed partial class ExactK3T2 : IStudyModel
{
}

public sealed partial class ExactK3T5 : IStudyModel
{
}

public sealed partial class ExactK4T2 : IStudyModel
{
}

public sealed partial class ExactK4T5 : IStudyModel
{
}

public sealed partial class ExactNone : IStudyModel
{
}

public sealed partial class LowrankK2T2 : IStudyModel
{
}

public sealed partial class LowrankK2T5 : IStudyModel
{
}

public sealed partial class LowrankK3T2 : IStudyModel
{
}

public sealed partial class LowrankK3T5 : IStudyModel
{
}

public sealed partial class LowrankK4T2 : IStudyModel
{
}

public sealed partial class LowrankK4T5 : IStudyModel
{
}

public sealed partial class LowrankNone : IStudyModel
{
}

public sealed partial class DensePlanes4 : IStudyModel
{
}

public sealed partial class DensePlanes2 : IStudyModel
{
}

public sealed partial class ProxyK3T10 : IStudyModel
{
}

internal static class StudyModels
{
    public static readonly string[] Names = { "DenseInt8", "DensePlanes8", "DensePlanes4", "DensePlanes2", "ProxyK3Int8", "ProxyK3T10", "ProxyK2T2", "ProxyK2T5", "ProxyK3T2", "ProxyK3T5", "ProxyK4T2", "ProxyK4T5", "ProxyNone", "ExactK2T2", "ExactK2T5", "ExactK3T2", "ExactK3T5", "ExactK4T2", "ExactK4T5", "ExactNone", "LowrankK2T2", "LowrankK2T5", "LowrankK3T2", "LowrankK3T5", "LowrankK4T2", "LowrankK4T5", "LowrankNone" };

    public static IStudyModel Create(string name) => name switch
    {
        "DenseInt8" => new DenseInt8(),
        "DensePlanes8" => new DensePlanes8(),
        "DensePlanes4" => new DensePlanes4(),
        "DensePlanes2" => new DensePlanes2(),
        "ProxyK3T10" => new ProxyK3T10(),
        "ProxyK3Int8" => new ProxyK3Int8(),
        "ProxyK2T2" => new ProxyK2T2(),
        "ProxyK2T5" => new ProxyK2T5(),
        "ProxyK3T2" => new ProxyK3T2(),
        "ProxyK3T5" => new ProxyK3T5(),
        "ProxyK4T2" => new ProxyK4T2(),
        "ProxyK4T5" => new ProxyK4T5(),
        "ProxyNone" => new ProxyNone(),
        "ExactK2T2" => new ExactK2T2(),
        "ExactK2T5" => new ExactK2T5(),
        "ExactK3T2" => new ExactK3T2(),
        "ExactK3T5" => new ExactK3T5(),
        "ExactK4T2" => new ExactK4T2(),
        "ExactK4T5" => new ExactK4T5(),
        "ExactNone" => new ExactNone(),
        "LowrankK2T2" => new LowrankK2T2(),
        "LowrankK2T5" => new LowrankK2T5(),
        "LowrankK3T2" => new LowrankK3T2(),
        "LowrankK3T5" => new LowrankK3T5(),
        "LowrankK4T2" => new LowrankK4T2(),
        "LowrankK4T5" => new LowrankK4T5(),
        "LowrankNone" => new LowrankNone(),
        _ => throw new System.ArgumentException("No model " + name, nameof(name)),
    };
}
