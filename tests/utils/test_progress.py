"""Progress bars: shown for long jobs or when asked, never when told not to."""
from torch_atomsets.utils.progress import progress_bar


def test_disabled_and_short_jobs_get_no_bar(capsys):
    for bar in (progress_bar(10_000, "featurising", enable=False), progress_bar(10, "featurising")):
        bar.update(5)
        bar.close()
    assert capsys.readouterr().err == ""


def test_an_enabled_bar_counts_on_stderr(capsys):
    bar = progress_bar(4, "featurising", unit="structure", enable=True)
    bar.update(4)
    bar.close()
    err = capsys.readouterr().err
    assert "featurising" in err and "4/4" in err
