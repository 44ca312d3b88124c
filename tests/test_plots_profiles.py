"""visual.plots.profiles: the middle-row profiles of the gridding and ERF explorers."""

import matplotlib.pyplot as plt
import numpy as np

from visual.plots.profiles import draw_erf_profile, draw_gridding_profile, update_erf_profile, update_gridding_profile


def test_profile_pairs_show_the_middle_row_and_its_holes():
    fig, (ax_grid, ax_erf) = plt.subplots(1, 2)
    grid = draw_gridding_profile(ax_grid)
    update_gridding_profile(grid, 3, (2, 2, 2))  # RF 13; a 1-in-4 lattice: odd offsets are never read
    offsets, counts = grid.line.get_data()
    assert list(offsets) == list(range(-6, 7)) and len(counts) == 13
    holes, _ = grid.marks.get_data()
    assert list(holes) == [-5, -3, -1, 1, 3, 5]
    heat = np.zeros((9, 9))
    heat[4, 2:7] = [0.25, 0.5, 1.0, 0.5, 0.25]
    erf = draw_erf_profile(ax_erf, (-0.5, 8.5))
    update_erf_profile(erf, heat, 1.0, (2, 2, 5, 5))
    columns, row = erf.line.get_data()
    assert list(row) == list(heat[4]) and erf.span.get_x() == 1.5 and erf.span.get_width() == 5
    _, gauss = erf.marks.get_data()
    assert gauss.argmax() == 4 and gauss.max() == 1.0  # centred on the row's centre of mass
    assert ax_erf.get_title() == "middle row: 4 std = 4.0 px vs RF 5 px"
    plt.close(fig)
