"""Kayenta's metric classifier, checked against Kayenta's ``ClassifierSuite`` and effect sizes.

Cases marked "ClassifierSuite" come from spinnaker/kayenta ``kayenta-judge/src/test/scala/com/
netflix/kayenta/judge/ClassifierSuite.scala`` (the ``MannWhitneyClassifier`` tests; the
``MeanInequalityClassifier`` ones do not apply: that classifier is not part of the judge).
"StatisticSuite" cases come from ``StatisticSuite.scala`` in the same folder. In Kayenta's API
``effectSizeThresholds = (allowedDecrease, allowedIncrease)`` and ``criticalThresholds =
(criticalDecrease, criticalIncrease)``; the tables below spell them out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from safeship.judge.kayenta_classifier import (
    NOISE_SEED,
    ClassifierConfig,
    MetricRules,
    Rule,
    classify,
    cles,
    effect_size,
    mean_ratio,
)
from safeship.judge.mann_whitney import TiedObservationsError
from safeship.model.analysis import Classification
from safeship.model.canary import (
    CanaryMetric,
    Direction,
    EffectMeasure,
    EffectSize,
    JudgeConfig,
    NanStrategy,
)
from tests.unit.judge.test_mann_whitney import ZERO_INFLATED_X, ZERO_INFLATED_Y

PASS, HIGH, LOW = Classification.PASS, Classification.HIGH, Classification.LOW
NODATA, NODATA_FAIL = Classification.NODATA, Classification.NODATA_FAIL
EITHER, INCREASE, DECREASE = Direction.EITHER, Direction.INCREASE, Direction.DECREASE

# ClassifierSuite's test classifiers use tolerance 0.10 and 95 % unless a case says otherwise.
SUITE = ClassifierConfig(tolerance=0.10, confidence=0.95)
CLES_SUITE = ClassifierConfig(tolerance=0.20, confidence=0.98)
DEFAULT_EFFECTS = EffectSize()


def effects(decrease: float = 1.0, increase: float = 1.0, critical_decrease: float = 1.0,
            critical_increase: float = 1.0,
            measure: EffectMeasure = EffectMeasure.MEAN_RATIO) -> EffectSize:
    return EffectSize(measure, increase, decrease, critical_increase, critical_decrease)


@dataclass(frozen=True)
class Case:
    name: str
    canary: tuple[float, ...]
    baseline: tuple[float, ...]
    direction: Direction
    expected: Classification
    critical_expected: bool | None = None
    effect: EffectSize = DEFAULT_EFFECTS
    config: ClassifierConfig = SUITE
    critical: bool = False
    nan_strategy: NanStrategy = NanStrategy.REMOVE
    deviation: str | None = None  # "nan" or "one" when the suite checks it


# --- ClassifierSuite data -----------------------------------------------------------------------

LOW_VALUES = (  # experiment of "Pass Metric" / "Low Metric"
    9.7767343120109462, 10.587071850477695, 7.8375506388901766, 9.3243326886113884,
    8.3774505409784421, 8.9359264399606282, 8.2707663324728511, 9.7484308126716925,
    11.623746715547156, 9.2753442679633942, 8.1538047749171518, 10.562020975754294,
    13.498135575451835, 11.054419256110332, 6.9538903590055092, 12.521008342195479,
    9.0216358603546443, 4.9234856699531662, 11.251360203607172, 11.598449508040337,
    8.435232204668182, 11.110228516867279, 10.70063380164755, 8.9212773652115249,
    10.086167067942661, 11.42107515483087, 9.3792347813644952, 7.7980320148552593,
    10.62339807275746, 11.909642062063739,
)
LOW_CONTROL = (  # control of "Pass Metric" / "High Metric"
    11.1453586774086, 9.9618059885597017, 7.068574306369829, 7.3012661810483657,
    9.7944630265656727, 9.6037918603687302, 6.1867793350339388, 12.345599159550174,
    10.371891733859533, 8.6094300785016724, 9.913162673361084, 10.361375299003466,
    14.206800387518818, 10.946153754753301, 10.215876627044048, 11.739760899484603,
    10.907627468626439, 12.823353694464775, 8.1018609771732137, 8.4981616408804932,
    12.113441374697231, 13.272210809932028, 10.114579381663297, 6.9463958767978067,
    6.2105278541727778, 10.160401684903775, 8.3457712066455461, 8.383822063895833,
    7.0020205070083765, 10.755757401808442,
)
HIGH_VALUES = (  # experiment of "High Metric"
    20.878412601720026, 21.78550581191622, 19.70828084717019, 15.859946903461562,
    19.510058772176841, 19.392005525270303, 22.926528314912101, 17.156530276709894,
    18.655117916226171, 23.422607911610392, 24.055817684156644, 22.62689958516501,
    21.979472967817678, 21.659318607218694, 20.067707574072426, 22.119570836305414,
    16.44037132663307, 21.559622826341268, 21.000181443489218, 17.779369411412663,
    17.806006358943584, 18.537200618386109, 20.555550300210797, 19.552928184468378,
    21.771118944087092, 21.809622806176627, 20.961762909905271, 20.977571577503021,
    19.106303205498794, 16.976918966987078,
)
HIGH_CONTROL = (  # control of "Low Metric"
    20.758113589510348, 22.802059629464559, 20.612340363492208, 20.973274654749986,
    23.469237330498622, 21.53133988954805, 21.767353687439805, 18.308050730374301,
    19.062145167827566, 25.879498436001779, 18.982629726336128, 19.387920182269266,
    18.995398251246982, 24.228420230932805, 20.050985172694688, 18.2340451091756,
    17.870515494460435, 23.058103863806618, 18.400259567501134, 16.971352091177167,
    19.467529066052151, 17.90465423342031, 17.553948617825831, 16.104611843907193,
    24.38171081433039, 15.919294339922635, 20.479409626304697, 19.08307201492406,
    17.455788050722866, 18.853826823235142,
)
CLES_PASS_EXPERIMENT = (
    0.00000000e+00, 0.00000000e+00, 1.46580998e-04, 0.00000000e+00, 0.00000000e+00,
    0.00000000e+00, 7.94701987e-05, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    2.68889486e-05, 0.00000000e+00, 0.00000000e+00, 2.64935753e-05, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 2.61608895e-05, 1.27824931e-04, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 2.54511211e-05, 2.58665287e-05, 7.63339355e-05,
    0.00000000e+00, 2.54239443e-05, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    2.61001201e-05, 5.20101940e-05, 0.00000000e+00, 2.64452319e-05, 5.27551370e-05,
    7.83719533e-05, 5.19467027e-05, 2.58344528e-05, 2.58899676e-05, 0.00000000e+00,
    2.59497613e-05, 2.57938043e-05, 7.78553448e-05, 2.60593110e-05, 2.61001201e-05,
    0.00000000e+00, 0.00000000e+00, 2.59349551e-05, 2.60559160e-05, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    2.58819267e-05, 0.00000000e+00, 2.58825965e-05, 2.57572635e-05, 2.56877906e-05,
)
CLES_PASS_CONTROL = (
    0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 2.91528191e-05, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 2.98284862e-05, 5.99916012e-05, 0.00000000e+00,
    5.92276712e-05, 0.00000000e+00, 2.98053709e-05, 0.00000000e+00, 2.97309350e-05,
    5.92153960e-05, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 2.92800047e-05,
    0.00000000e+00, 2.94550810e-05, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    5.83958656e-05, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    2.88600289e-05, 2.90334756e-05, 2.91740817e-05, 0.00000000e+00, 0.00000000e+00,
    0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 2.92765758e-05,
    0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
    2.94637596e-05, 5.89136326e-05, 0.00000000e+00, 0.00000000e+00, 0.00000000e+00,
)
CLES_HIGH_EXPERIMENT = (
    0.00689808, 0.00568664, 0.00680876, 0.00642045, 0.00561825, 0.00472294, 0.00398378,
    0.00392403, 0.00421201, 0.0047529, 0.00460853, 0.00439888, 0.00561875, 0.01998866,
    0.0124369, 0.00624391, 0.00444361, 0.00442059, 0.00372095, 0.00540736, 0.00715402,
    0.00425974, 0.00414409, 0.01172436, 0.0125959, 0.00371891, 0.00429855, 0.00369876,
    0.00325709, 0.00415943, 0.00371754, 0.00445212, 0.00521721, 0.00443938, 0.00380859,
    0.01602997, 0.00788885, 0.0038155, 0.00326921, 0.00336928, 0.00365917, 0.00333869,
    0.00427639, 0.00355911, 0.00381224, 0.00360057, 0.00349305, 0.00401164, 0.00351947,
    0.00356299, 0.003407, 0.00414397, 0.00393346, 0.00413318, 0.00359041, 0.00366314,
    0.00309383, 0.00383733, 0.00363324, 0.00280674,
)
CLES_HIGH_CONTROL = (
    0.00081956, 0.00239282, 0.00133685, 0.00094917, 0.00029518, 0.00035344, 0.00048194,
    0.00034893, 0.0003202, 0.00079814, 0.00090881, 0.00072599, 0.00037819, 0.00038286,
    0.00057604, 0.00064821, 0.00032194, 0.0002245, 0.00025202, 0.00071997, 0.00022721,
    0.00042578, 0.00042496, 0.00045613, 0.00037072, 0.0003317, 0.00032889, 0.00032749,
    0.00036093, 0.00029285, 0.00038401, 0.00044467, 0.00071086, 0.00036692, 0.00052079,
    0.00074974, 0.00128791, 0.00062046, 0.00086345, 0.00118563, 0.00103379, 0.00028913,
    0.00057628, 0.00057943, 0.00048735, 0.00029409, 0.0002005, 0.00016612, 0.00089312,
    0.00059367, 0.00061706, 0.00163313, 0.00097784, 0.00029305, 0.00058839, 0.00085212,
    0.00048298, 0.00035546, 0.00025866, 0.00038767,
)
CLES_LOW_EXPERIMENT = (
    24.24693907, 26.13330099, 22.50056744, 24.36646841, 23.19935673, 19.43801304, 20.99654102,
    18.90793651, 21.31949881, 21.83528381, 21.64211206, 23.13365968, 21.09163134, 19.45540615,
    20.74783158, 22.25527831, 19.82051791, 20.9865487, 19.94450026, 23.2904056, 18.18408424,
    22.13843542, 19.42896044, 19.84140464, 23.91557662, 21.00981557, 21.8594633, 23.11630163,
    22.95700392, 17.80045135,
)
CLES_LOW_CONTROL = (
    25.09626848, 26.15032198, 24.88431438, 24.18870163, 22.14684987, 28.01743443, 21.29910501,
    27.24688773, 28.64187535, 27.03504445, 24.67888311, 22.35137878, 27.41640397, 26.00225548,
    23.02118534, 25.99647292, 22.77446912, 25.56704719, 25.57025827, 21.2721602, 23.12987357,
    24.59111604, 27.48865016, 27.21967755, 23.5951111, 22.5429607, 25.83015564, 23.31965305,
    24.3911644, 25.11468194,
)
ZERO_MEAN_CRITICAL_EXPERIMENT = (
    0.05000000074505806, 0.05000000074505806, 0.01666666753590107, 0.01666666753590107,
    0.01666666753590107, 0.05000000074505806, 0.03333333507180214, 0.05000000260770321,
    0.05000000260770321, 0.13333333656191826,
)
SMALL_HIGH = (20.0, 22.0, 21.0, 25.0, 30.0)
SMALL_LOW = (1.0, 2.2, 1.1, 2.5, 3.0)
ZEROS = (0.0, 0.0, 0.0, 0.0, 0.0)
FIFTY_FIVES = (54.9, 54.5, 55.1, 55.6, 57.4)

CLASSIFIER_SUITE = [
    Case("Mann-Whitney Classifier Test: Pass Metric", LOW_VALUES, LOW_CONTROL, EITHER, PASS),
    Case("Mann-Whitney Classifier Test: High Metric", HIGH_VALUES, LOW_CONTROL, EITHER, HIGH),
    Case("Mann-Whitney Classifier Test: Low Metric", LOW_VALUES, HIGH_CONTROL, EITHER, LOW),
    Case("Mann-Whitney Classifier Directional Test: Increase", LOW_VALUES, HIGH_CONTROL,
         INCREASE, PASS),
    Case("Mann-Whitney Classifier Directional Test: Decrease", HIGH_VALUES, LOW_CONTROL,
         DECREASE, PASS),
    Case("Mann-Whitney Classifier Directional Test: High Metric", HIGH_VALUES, LOW_CONTROL,
         INCREASE, HIGH, critical_expected=False),
    Case("Mann-Whitney Classifier Directional Test: Low Metric", LOW_VALUES, HIGH_CONTROL,
         DECREASE, LOW),
    Case("Mann-Whitney Classifier Test: High Metric (Large Input)", ZERO_INFLATED_X,
         ZERO_INFLATED_Y, EITHER, HIGH, critical_expected=False),
    Case("Mann-Whitney Classifier Test - Mean Ratio Effect Size: High", SMALL_HIGH, SMALL_LOW,
         EITHER, HIGH, effect=effects(0.8, 1.2)),
    Case("Mann-Whitney Classifier Test - Mean Ratio Effect Size: Low", LOW_VALUES, HIGH_CONTROL,
         DECREASE, LOW, effect=effects(0.8, 1.2)),
    Case("Mann-Whitney Classifier Test - Mean Ratio Effect Size: Pass",
         (10.0, 12.2, 10.1, 12.5, 23.0), SMALL_HIGH, EITHER, PASS, effect=effects(0.5, 1.0)),
    Case("Mann-Whitney Classifier Test - Mean Ratio Effect Size: Pass (Large Input)",
         ZERO_INFLATED_X, ZERO_INFLATED_Y, EITHER, PASS, effect=effects(1.0, 5.0)),
    Case("Mann-Whitney Classifier Test - CLES Effect Size: Pass", CLES_PASS_EXPERIMENT,
         CLES_PASS_CONTROL, EITHER, PASS,
         effect=effects(0.5, 0.8, 0.5, 0.5, EffectMeasure.CLES), config=CLES_SUITE),
    Case("Mann-Whitney Classifier Test - CLES Effect Size: High", CLES_HIGH_EXPERIMENT,
         CLES_HIGH_CONTROL, EITHER, HIGH,
         effect=effects(0.2, 0.8, 0.5, 0.5, EffectMeasure.CLES), config=CLES_SUITE),
    Case("Mann-Whitney Classifier Test - CLES Effect Size: Low", CLES_LOW_EXPERIMENT,
         CLES_LOW_CONTROL, EITHER, LOW,
         effect=effects(0.2, 0.8, 0.5, 0.5, EffectMeasure.CLES), config=CLES_SUITE),
    Case("Mann-Whitney Classifier Test - Critical Effect Size: Critical High", SMALL_HIGH,
         SMALL_LOW, EITHER, HIGH, True, effects(critical_decrease=1.0, critical_increase=1.2),
         critical=True),
    Case("Mann-Whitney Classifier Test - Critical Effect Size: Critical Low",
         (2.0, 2.0, 2.0, 2.0, 3.0), (10.0, 20.2, 10.1, 20.5, 30.0), EITHER, LOW, True,
         effects(critical_decrease=1.2, critical_increase=1.0), critical=True),
    Case("Mann-Whitney Classifier Test - Critical Effect Size: High", SMALL_HIGH, SMALL_LOW,
         EITHER, HIGH, False, effects(1.0, 5.0, 1.0, 13.0), critical=True),
    Case("Mann-Whitney Classifier Test - Critical Effect Size: Pass", SMALL_HIGH, SMALL_LOW,
         EITHER, PASS, False, effects(1.0, 13.0, 1.0, 15.0), critical=True),
    Case("Mann-Whitney Classifier Test - Critical Effect Size: Critical High (Default "
         "Thresholds)", SMALL_HIGH, SMALL_LOW, EITHER, HIGH, True, critical=True),
    Case("Mann-Whitney Tied Observations", (1.0, 1.0, 1.0), (1.0, 1.0), DECREASE, PASS),
    Case("Mann-Whitney Identical Populations", (1.0, 2.0, 3.0, 4.0, 5.0),
         (5.0, 4.0, 3.0, 2.0, 1.0), DECREASE, PASS),
    Case("Mann-Whitney Leading Zero Identical Population", (0.0, 1.0, 1.0, 1.0, 1.0),
         (1.0, 1.0, 1.0, 1.0, 1.0), DECREASE, PASS),
    Case("Mann-Whitney Missing Experiment Data", (), (1.0, 2.0, 3.0, 4.0, 5.0), DECREASE,
         NODATA),
    Case("Mann-Whitney Missing Experiment Data: Critical Metric", (), (1.0, 2.0, 3.0, 4.0, 5.0),
         DECREASE, NODATA, True, critical=True),
    Case("Mann-Whitney Missing Experiment Data with NaN Replacement", (),
         (1.0, 2.0, 3.0, 4.0, 5.0), DECREASE, PASS, nan_strategy=NanStrategy.REPLACE),
    Case("Mann-Whitney Majority Tied Observations", (1.0, 1.0, 1.0, 1.0, 10.0),
         (1.0, 1.0, 1.0, 1.0, 1.0), EITHER, PASS),
    Case("Mann-Whitney Tied Ranks", (10.0,) * 5, (1.0,) * 5, EITHER, HIGH),
    Case("Mann-Whitney Tied Ranks With Zeros", (10.0,) * 5, ZEROS, EITHER, HIGH),
    Case("Mann-Whitney Zero Mean: High Metric with Effect Size", FIFTY_FIVES, ZEROS, EITHER,
         HIGH, effect=effects(0.8, 1.2), deviation="nan"),
    Case("Mann-Whitney Zero Mean: Low Metric with Effect Size", ZEROS, FIFTY_FIVES, EITHER, LOW,
         effect=effects(0.8, 1.2), deviation="nan"),
    Case("Mann-Whitney Zero Mean: Critical Metric", ZERO_MEAN_CRITICAL_EXPERIMENT, (0.0,) * 10,
         EITHER, HIGH, True, effects(critical_decrease=0.8, critical_increase=1.2),
         critical=True, nan_strategy=NanStrategy.REPLACE),
    Case("Mann-Whitney Zero Mean: Pass Metric", ZEROS, ZEROS, EITHER, PASS,
         effect=effects(0.8, 1.2), deviation="one"),
]


@pytest.mark.parametrize("case", CLASSIFIER_SUITE, ids=[c.name for c in CLASSIFIER_SUITE])
def test_kayenta_classifier_suite(case: Case) -> None:
    rules = MetricRules(case.direction, case.nan_strategy, case.critical, False, case.effect)
    result = classify(case.baseline, case.canary, rules, case.config, name="test-metric")
    assert result.classification is case.expected
    if case.critical_expected is not None:
        assert result.critical is case.critical_expected
    if case.deviation == "nan":
        assert math.isnan(result.deviation)
    elif case.deviation == "one":
        assert result.deviation == 1.0


def test_kayenta_missing_data_reason_string() -> None:
    """ClassifierSuite "Mann-Whitney Missing Data: Reason String"."""
    result = classify((), (), MetricRules(DECREASE, critical=True), SUITE, name="critical-metric")
    assert result.reason


# --- StatisticSuite: effect sizes ------------------------------------------------------------

CLES_NO_OVERLAP_EXPERIMENT = (
    2.27776335, 2.61149434, 3.26894105, 2.91672701, 1.40656921, 2.18292082, 3.47901292,
    3.00034118, 3.02402043, 4.69912745,
)
CLES_NO_OVERLAP_CONTROL = (
    25.31531073, 25.19450817, 24.6288846, 24.37991861, 26.40999244, 25.28524759, 24.99788745,
    26.13841676, 22.93604649, 24.56817832,
)
CLES_HIGH_METRIC_EXPERIMENT = (
    29.17644856, 25.16947646, 25.88467948, 29.4900454, 27.05622757, 26.13307864, 27.2711558,
    26.69139944, 29.05412377, 26.39818697, 26.68312641, 24.99600187, 27.99524816, 22.57278291,
    23.72798196, 25.82821505, 28.26624521, 28.02370228, 24.1792213, 26.02914828, 25.90970275,
    31.18337461, 27.44254942, 29.93347686, 26.70848069, 28.12191913, 27.39257837, 30.17636627,
    29.60240485, 30.10635388,
)
CLES_HIGH_METRIC_CONTROL = (
    24.69397578, 25.37120574, 25.86186148, 26.93804252, 22.72232309, 24.15894084, 24.80842752,
    26.07830794, 27.35323988, 23.25110886, 24.65909111, 23.88299016, 21.34817847, 26.33198082,
    23.39498829, 26.6734461, 25.33769589, 23.92348759, 25.29740715, 24.21381887, 28.1697053,
    22.2271772, 27.16612837, 25.16639243, 26.85955896, 27.13421926, 25.43350074, 26.32130314,
    23.8854011, 27.86180318,
)
CLES_LOW_METRIC_EXPERIMENT = (
    22.58442682, 18.83161858, 22.34282944, 18.52177725, 19.41399147, 21.77120485, 24.33796385,
    22.16390531, 23.781802, 21.38514296, 22.2205035, 22.06152361, 21.30313392, 21.59652134,
    22.38394223, 24.68882792, 20.58916439, 21.03137302, 22.26213957, 23.76485986, 20.56271226,
    24.56567102, 19.86055958, 22.18967677, 20.31475409, 19.2634656, 24.60283585, 20.41729998,
    20.62069798, 22.53448767,
)
CLES_LOW_METRIC_CONTROL = (
    23.15322873, 22.09179077, 26.56410603, 23.0971542, 24.26372276, 25.6461273, 29.42730472,
    22.08630097, 29.15257054, 25.8096766, 24.62191338, 23.67398895, 23.63946085, 26.44684325,
    25.76230914, 25.41279862, 22.64005862, 24.58898152, 25.01968457, 25.03695883, 23.79864705,
    26.60180151, 25.99405034, 22.46726084, 28.31843786, 24.30152484, 22.83713467, 21.92380184,
    23.44735223, 29.15676219,
)


@pytest.mark.parametrize(("name", "canary", "baseline", "expected"), [
    ("Effect Size: Mean Ratio (No Effect)", (1.0,) * 5, (1.0,) * 5, 1.0),
    ("Effect Size: Mean Ratio (High)", (10.0,) * 5, (1.0,) * 5, 10.0),
    ("Effect Size: Mean Ratio (Low)", (10.0,) * 5, (100.0,) * 5, 0.1),
])
def test_kayenta_mean_ratio(name: str, canary: tuple[float, ...], baseline: tuple[float, ...],
                            expected: float) -> None:
    """StatisticSuite, exact comparisons."""
    assert mean_ratio(baseline, canary) == expected


def test_kayenta_mean_ratio_zero_mean_is_nan() -> None:
    """StatisticSuite "Effect Size: Mean Ratio (Zero Mean)"."""
    assert math.isnan(mean_ratio((0.0,) * 5, (10.0,) * 5))
    assert math.isnan(mean_ratio((10.0,) * 5, (0.0,) * 5))


@pytest.mark.parametrize(("name", "canary", "baseline", "expected", "tolerance"), [
    ("CLES Effect Size: Identical", (1.0, 2.0, 3.0, 4.0, 5.0), (1.0, 2.0, 3.0, 4.0, 5.0), 0.5,
     0.0),
    ("CLES Effect Size: Different (No Overlap)", CLES_NO_OVERLAP_EXPERIMENT,
     CLES_NO_OVERLAP_CONTROL, 0.0, 0.0),
    ("CLES Effect Size: High Metric", CLES_HIGH_METRIC_EXPERIMENT, CLES_HIGH_METRIC_CONTROL,
     0.771, 0.001),
    ("CLES Effect Size: Low Metric", CLES_LOW_METRIC_EXPERIMENT, CLES_LOW_METRIC_CONTROL, 0.12,
     0.0),
], ids=lambda v: v if isinstance(v, str) else "")
def test_kayenta_cles(name: str, canary: tuple[float, ...], baseline: tuple[float, ...],
                      expected: float, tolerance: float) -> None:
    """StatisticSuite CLES cases; a zero tolerance is Kayenta's exact ``===``."""
    if tolerance:
        assert cles(baseline, canary) == pytest.approx(expected, abs=tolerance)
    else:
        assert cles(baseline, canary) == expected


# --- every branch, and the edges the brief lists ----------------------------------------------


def rules(**changes: object) -> MetricRules:
    return MetricRules(**changes)  # type: ignore[arg-type]


def test_effect_size_dispatches_on_the_measure() -> None:
    assert effect_size((1.0, 2.0), (2.0, 4.0), EffectMeasure.MEAN_RATIO) == 2.0
    assert effect_size((1.0, 2.0), (3.0, 4.0), EffectMeasure.CLES) == 1.0
    assert math.isnan(cles((), (1.0,)))


@pytest.mark.parametrize(("must_have_data", "critical", "expected", "critical_flag"), [
    (False, False, NODATA, False),
    (False, True, NODATA, True),
    (True, False, NODATA_FAIL, False),
    (True, True, NODATA, True),  # critical wins: Nodata that fails the canary
])
@pytest.mark.parametrize("empty_arm", ["canary", "baseline", "both"])
def test_empty_arm_under_remove(must_have_data: bool, critical: bool,
                                expected: Classification, critical_flag: bool,
                                empty_arm: str) -> None:
    canary = () if empty_arm in ("canary", "both") else (1.0, 2.0)
    baseline = () if empty_arm in ("baseline", "both") else (1.0, 2.0)
    result = classify(baseline, canary, rules(must_have_data=must_have_data, critical=critical),
                      name="m")
    assert (result.classification, result.critical, result.rule) == (
        expected, critical_flag, Rule.EMPTY)
    assert "missing data for m" in result.reason


def test_empty_arm_under_replace_passes_like_kayenta() -> None:
    result = classify((), (1.0,), rules(nan_strategy=NanStrategy.REPLACE, must_have_data=True,
                                        critical=True))
    assert (result.classification, result.critical) == (PASS, False)
    assert "replace" in result.reason


def test_identical_and_all_equal_short_cuts() -> None:
    same = classify((3.0, 1.0, 2.0), (1.0, 2.0, 3.0), rules(critical=True))
    assert (same.classification, same.rule, same.deviation, same.critical) == (
        PASS, Rule.IDENTICAL, 1.0, False)
    assert same.effect_size is None
    assert same.interval is None
    flat = classify((7.0, 7.0), (7.0, 7.0, 7.0))
    assert (flat.classification, flat.rule) == (PASS, Rule.ALL_EQUAL)


def test_degenerate_arms_get_seeded_noise() -> None:
    first = classify((1.0,) * 5, (10.0,) * 5)
    second = classify((1.0,) * 5, (10.0,) * 5)
    assert first == second  # a fixed seed: the same answer every time
    assert first.noise_added
    assert first.classification is HIGH
    other_seed = classify((1.0,) * 5, (10.0,) * 5,
                          config=ClassifierConfig(noise_seed=NOISE_SEED + 1))
    assert other_seed.interval != first.interval
    assert other_seed.classification is HIGH


def test_noise_is_not_added_when_an_arm_varies() -> None:
    assert not classify((1.0, 2.0, 3.0), (10.0,) * 3).noise_added


@pytest.mark.parametrize(("direction", "canary", "baseline", "expected"), [
    (INCREASE, HIGH_VALUES, LOW_CONTROL, HIGH),
    (INCREASE, LOW_VALUES, HIGH_CONTROL, PASS),
    (DECREASE, HIGH_VALUES, LOW_CONTROL, PASS),
    (DECREASE, LOW_VALUES, HIGH_CONTROL, LOW),
    (EITHER, HIGH_VALUES, LOW_CONTROL, HIGH),
    (EITHER, LOW_VALUES, HIGH_CONTROL, LOW),
    (EITHER, LOW_VALUES, LOW_CONTROL, PASS),
])
def test_direction_table(direction: Direction, canary: tuple[float, ...],
                         baseline: tuple[float, ...], expected: Classification) -> None:
    result = classify(baseline, canary, rules(direction=direction))
    assert result.classification is expected
    assert result.rule is Rule.TESTED
    assert result.interval is not None
    assert result.bound is not None
    assert result.bound == pytest.approx(0.25 * abs(result.interval.estimate))


@pytest.mark.parametrize(("allowed_increase", "expected"), [(1.0, HIGH), (2.5, PASS)])
def test_allowed_increase_gates_high(allowed_increase: float,
                                     expected: Classification) -> None:
    # Mean ratio of HIGH_VALUES over LOW_CONTROL is about 2.0.
    result = classify(LOW_CONTROL, HIGH_VALUES,
                      rules(effect_size=effects(increase=allowed_increase)))
    assert result.classification is expected


@pytest.mark.parametrize(("allowed_decrease", "expected"), [(1.0, LOW), (0.3, PASS)])
def test_allowed_decrease_gates_low(allowed_decrease: float,
                                    expected: Classification) -> None:
    # Mean ratio of LOW_VALUES over HIGH_CONTROL is about 0.5.
    result = classify(HIGH_CONTROL, LOW_VALUES,
                      rules(effect_size=effects(decrease=allowed_decrease)))
    assert result.classification is expected


@pytest.mark.parametrize(("critical_increase", "critical_flag"), [(1.5, True), (3.0, False)])
def test_critical_increase(critical_increase: float, critical_flag: bool) -> None:
    thresholds = effects(critical_increase=critical_increase)
    result = classify(LOW_CONTROL, HIGH_VALUES, rules(critical=True, effect_size=thresholds))
    assert (result.classification, result.critical) == (HIGH, critical_flag)
    assert ("(critical)" in result.reason) is critical_flag


@pytest.mark.parametrize(("critical_decrease", "critical_flag"), [(0.6, True), (0.3, False)])
def test_critical_decrease(critical_decrease: float, critical_flag: bool) -> None:
    thresholds = effects(critical_decrease=critical_decrease)
    result = classify(HIGH_CONTROL, LOW_VALUES, rules(critical=True, effect_size=thresholds))
    assert (result.classification, result.critical) == (LOW, critical_flag)


def test_a_non_critical_metric_is_never_critical() -> None:
    assert not classify(LOW_CONTROL, HIGH_VALUES, rules(critical=False)).critical


def test_a_passing_critical_metric_is_not_critical() -> None:
    assert not classify(LOW_CONTROL, LOW_VALUES, rules(critical=True)).critical


def test_zero_baseline_mean_ignores_the_effect_gate() -> None:
    # The ratio is undefined, so even an impossible allowed increase does not stop High.
    result = classify(ZEROS, FIFTY_FIVES, rules(effect_size=effects(increase=1e9),
                                                critical=True))
    assert (result.classification, result.critical) == (HIGH, True)
    assert result.effect_size is not None
    assert math.isnan(result.effect_size)


def test_an_error_counts_as_missing_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise TiedObservationsError

    monkeypatch.setattr("safeship.judge.kayenta_classifier.mann_whitney_interval", broken)
    result = classify((1.0, 2.0), (3.0, 4.0), rules(critical=True), name="m")
    # Kayenta says Error; safeship treats it as missing data (no rollback, no promotion),
    # keeping the critical flag so a critical metric still fails closed.
    assert (result.classification, result.critical, result.rule) == (
        Classification.NODATA, True, Rule.ERROR)
    assert result.error is not None
    assert "tied" in result.error
    assert "counts as missing data" in result.reason
    plain = classify((1.0, 2.0), (3.0, 4.0), rules(critical=False))
    assert (plain.classification, plain.critical) == (Classification.NODATA, False)


def test_overflowing_values_error_instead_of_passing() -> None:
    # The shift range overflows to infinity; the classifier must not call that a Pass.
    result = classify((-1.7e308, 1.0), (1.7e308, 2.0))
    assert result.classification is Classification.NODATA
    assert result.rule is Rule.ERROR


def test_rules_and_config_come_from_the_canary_file() -> None:
    metric = CanaryMetric("latency", "q", direction=INCREASE, critical=True,
                          must_have_data=True, nan_strategy=NanStrategy.REPLACE,
                          effect_size=effects(increase=1.1))
    assert MetricRules.from_metric(metric) == MetricRules(INCREASE, NanStrategy.REPLACE, True,
                                                          True, effects(increase=1.1))
    config = ClassifierConfig.from_judge(JudgeConfig(confidence=0.9, tolerance=0.5))
    assert (config.confidence, config.tolerance) == (0.9, 0.5)
    assert ClassifierConfig() == ClassifierConfig(0.25, 0.98, NOISE_SEED)
