<?php
/**
 * Reads the expected shipping date the backorder connector writes on products and variations, and shows it
 * where the customer decides and where the order is confirmed.
 *
 * The connector writes these meta keys on the product or variation that holds the stock (see readme.txt):
 * `_backorder_eta` (Y-m-d), `_backorder_eta_earliest` and `_backorder_eta_latest` (Y-m-d, a range), and
 * `_backorder_eta_text` (the merchant's own wording, in the site language).
 *
 * @package WooCommerce_Backorder_ETA
 */

defined( 'ABSPATH' ) || exit;

/**
 * The plugin: hooks, reading the connector's meta, and the customer-facing sentence.
 */
final class Backorder_ETA {

	const TEXT_DOMAIN   = 'woocommerce-backorder-eta';
	const META_ETA      = '_backorder_eta';
	const META_EARLIEST = '_backorder_eta_earliest';
	const META_LATEST   = '_backorder_eta_latest';
	const META_TEXT     = '_backorder_eta_text';

	/**
	 * Path of the main plugin file.
	 *
	 * @var string
	 */
	private $plugin_file;

	/**
	 * Sets the plugin up for the given main file.
	 *
	 * @param string $plugin_file Path of the main plugin file.
	 */
	public function __construct( $plugin_file ) {
		$this->plugin_file = $plugin_file;
	}

	/**
	 * Creates the plugin and hooks it into WordPress and WooCommerce.
	 *
	 * @param string $plugin_file Path of the main plugin file.
	 * @return Backorder_ETA
	 */
	public static function register( $plugin_file ) {
		$plugin = new self( $plugin_file );
		add_action( 'init', array( $plugin, 'load_textdomain' ) );
		add_action( 'before_woocommerce_init', array( $plugin, 'declare_compatibility' ) );
		add_filter( 'woocommerce_get_availability_text', array( $plugin, 'filter_availability_text' ), 10, 2 );
		add_filter( 'woocommerce_get_item_data', array( $plugin, 'filter_cart_item_data' ), 10, 2 );
		add_action( 'woocommerce_checkout_create_order_line_item', array( $plugin, 'record_order_item_eta' ), 10, 4 );
		add_action( 'woocommerce_order_item_meta_end', array( $plugin, 'print_order_item_eta' ), 10, 4 );
		add_action( 'woocommerce_after_order_itemmeta', array( $plugin, 'print_admin_order_item_eta' ), 10, 3 );
		add_action( 'rest_api_init', array( new Backorder_ETA_REST(), 'register_routes' ) );
		return $plugin;
	}

	/**
	 * Loads the translations shipped in languages/.
	 */
	public function load_textdomain() {
		load_plugin_textdomain( self::TEXT_DOMAIN, false, dirname( plugin_basename( $this->plugin_file ) ) . '/languages' );
	}

	/**
	 * Declares that the plugin works with HPOS order storage and the cart and checkout blocks: it reads and
	 * writes through WooCommerce's CRUD objects only.
	 */
	public function declare_compatibility() {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', $this->plugin_file, true );
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'cart_checkout_blocks', $this->plugin_file, true );
		}
	}

	/**
	 * Adds the expected shipping date to the availability message of a product a customer can only order on
	 * backorder ("Available on backorder. Ships around 12 March"). Variations get it too: WooCommerce builds
	 * each variation's availability through this filter, so it follows the variation picker.
	 *
	 * @param string     $availability The availability text WooCommerce worked out.
	 * @param WC_Product $product      The product or variation.
	 * @return string
	 */
	public function filter_availability_text( $availability, $product ) {
		if ( ! $product instanceof WC_Product || ! $product->is_on_backorder( 1 ) ) {
			return $availability;
		}
		$message = $this->storefront_message( $product );
		if ( '' === $message ) {
			return $availability;
		}
		if ( '' === trim( wp_strip_all_tags( (string) $availability ) ) ) {
			return esc_html( $message );
		}
		/* translators: 1: WooCommerce's availability text, such as "Available on backorder"; 2: the expected shipping date, such as "Ships around 12 March". */
		return sprintf( __( '%1$s. %2$s', 'woocommerce-backorder-eta' ), $availability, esc_html( $message ) );
	}

	/**
	 * Adds the expected shipping date under a cart line that will be backordered (classic cart and the cart
	 * block, which both read this filter).
	 *
	 * @param array $item_data The cart line's data lines.
	 * @param array $cart_item The cart line.
	 * @return array
	 */
	public function filter_cart_item_data( $item_data, $cart_item ) {
		$product  = isset( $cart_item['data'] ) ? $cart_item['data'] : null;
		$quantity = isset( $cart_item['quantity'] ) ? (int) $cart_item['quantity'] : 1;
		if ( ! $product instanceof WC_Product || ! $product->is_on_backorder( $quantity ) ) {
			return $item_data;
		}
		$message = $this->storefront_message( $product );
		if ( '' === $message ) {
			return $item_data;
		}
		$item_data   = is_array( $item_data ) ? $item_data : array();
		$item_data[] = array(
			'key'     => esc_html__( 'Backorder', 'woocommerce-backorder-eta' ),
			'value'   => esc_html( $message ),
			'display' => esc_html( $message ),
		);
		return $item_data;
	}

	/**
	 * Keeps the dates shown at checkout on the order line of a backordered product, so the order emails and
	 * the order screen show what the customer was told.
	 *
	 * @param WC_Order_Item_Product $item          The new order line.
	 * @param string                $cart_item_key The cart line's key.
	 * @param array                 $values        The cart line.
	 * @param WC_Order              $order         The new order.
	 */
	public function record_order_item_eta( $item, $cart_item_key, $values, $order ) {
		$product  = isset( $values['data'] ) ? $values['data'] : null;
		$quantity = isset( $values['quantity'] ) ? (int) $values['quantity'] : 1;
		if ( ! $item instanceof WC_Order_Item_Product || ! $product instanceof WC_Product || ! $product->is_on_backorder( $quantity ) ) {
			return;
		}
		$eta = $this->product_eta( $product );
		if ( null === $eta || '' === $this->message( $eta, wp_date( 'Y-m-d' ) ) ) {
			return;
		}
		$stored = array(
			self::META_ETA      => $eta['eta'],
			self::META_EARLIEST => $eta['earliest'],
			self::META_LATEST   => $eta['latest'],
			self::META_TEXT     => $eta['text'],
		);
		foreach ( $stored as $key => $value ) {
			if ( '' !== $value ) {
				$item->add_meta_data( $key, $value, true );
			}
		}
	}

	/**
	 * Prints the expected shipping date under a backordered line in the order emails (HTML and plain text)
	 * and on the customer's order page.
	 *
	 * @param int           $item_id    The order line's id.
	 * @param WC_Order_Item $item       The order line.
	 * @param WC_Order      $order      The order.
	 * @param bool          $plain_text Whether this is a plain-text email.
	 */
	public function print_order_item_eta( $item_id, $item, $order, $plain_text = false ) {
		$message = $this->order_item_message( $item );
		if ( '' === $message ) {
			return;
		}
		$label = __( 'Backorder', 'woocommerce-backorder-eta' );
		if ( $plain_text ) {
			/* translators: 1: the label "Backorder"; 2: the expected shipping date, such as "Ships around 12 March". */
			$line = sprintf( __( '%1$s: %2$s', 'woocommerce-backorder-eta' ), $label, $message );
			// A plain-text email is not HTML: escaping would show entities, so tags are stripped instead.
			echo "\n" . wp_strip_all_tags( $line ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped
			return;
		}
		printf(
			'<div class="backorder-eta"><strong>%1$s:</strong> %2$s</div>',
			esc_html( $label ),
			esc_html( $message )
		);
	}

	/**
	 * Shows the merchant, on the order screen, the date the customer was given at checkout.
	 *
	 * @param int           $item_id The order line's id.
	 * @param WC_Order_Item $item    The order line.
	 * @param WC_Product    $product The line's product, if it still exists.
	 */
	public function print_admin_order_item_eta( $item_id, $item, $product ) {
		$message = $this->order_item_message( $item );
		if ( '' === $message ) {
			return;
		}
		printf(
			'<div class="backorder-eta"><strong>%1$s:</strong> %2$s</div>',
			esc_html__( 'ETA given at checkout', 'woocommerce-backorder-eta' ),
			esc_html( $message )
		);
	}

	/**
	 * The sentence for a product on the storefront today, or '' when there is nothing to say.
	 *
	 * @param WC_Product $product The product or variation.
	 * @return string
	 */
	public function storefront_message( $product ) {
		$eta = $this->product_eta( $product );
		return null === $eta ? '' : $this->message( $eta, wp_date( 'Y-m-d' ), $product );
	}

	/**
	 * The connector's dates for a product: its own meta, or for a variation whose stock its parent manages,
	 * the parent's.
	 *
	 * @param WC_Product $product The product or variation.
	 * @return array|null The dates (keys eta, earliest, latest, text), null when none is set.
	 */
	public function product_eta( $product ) {
		$eta = $this->read_eta( $product );
		if ( null === $eta && $product->is_type( 'variation' ) && 'parent' === $product->get_manage_stock() ) {
			$parent = wc_get_product( $product->get_parent_id() );
			if ( $parent instanceof WC_Product ) {
				$eta = $this->read_eta( $parent );
			}
		}
		return $eta;
	}

	/**
	 * Reads the four meta values from a product, a variation or an order line.
	 *
	 * @param WC_Data $source Where the meta is stored.
	 * @return array|null The dates (keys eta, earliest, latest, text; invalid dates read as ''), null when
	 *                    there is no valid date.
	 */
	public function read_eta( $source ) {
		$eta = array(
			'eta'      => $this->valid_date( $source->get_meta( self::META_ETA, true ) ),
			'earliest' => $this->valid_date( $source->get_meta( self::META_EARLIEST, true ) ),
			'latest'   => $this->valid_date( $source->get_meta( self::META_LATEST, true ) ),
			'text'     => trim( (string) $source->get_meta( self::META_TEXT, true ) ),
		);
		if ( '' === $eta['eta'] && ( '' === $eta['earliest'] || '' === $eta['latest'] ) ) {
			return null;
		}
		return $eta;
	}

	/**
	 * The sentence for a set of dates: "Ships around 12 March" or "Expected between 12 and 16 March", or the
	 * merchant's text when rendering in the site language.
	 *
	 * With a date for today, a last date before it gives '' (a stale ETA is never shown) and a range that
	 * has begun starts today; without one (an order line, the date the customer was given) neither applies.
	 * The year is shown only when it is not the current one.
	 *
	 * @param array           $eta     The dates, as read_eta() gives them.
	 * @param string|null     $today   Today (Y-m-d, site time zone), or null.
	 * @param WC_Product|null $product The product, passed to the `backorder_eta_message` filter.
	 * @return string Plain text, not escaped.
	 */
	public function message( $eta, $today = null, $product = null ) {
		$first = $eta['eta'];
		$last  = $eta['eta'];
		if ( '' !== $eta['earliest'] && '' !== $eta['latest'] && $eta['earliest'] <= $eta['latest'] ) {
			$first = $eta['earliest'];
			$last  = $eta['latest'];
		}
		if ( '' === $last || ( null !== $today && $last < $today ) ) {
			return '';
		}
		if ( null !== $today && $first < $today ) {
			$first = $today;
		}

		$last_style = substr( $last, 0, 4 ) === wp_date( 'Y' ) ? 'day_month' : 'day_month_year';
		if ( '' !== $eta['text'] && $this->in_site_language() ) {
			$message = $eta['text'];
		} elseif ( $first === $last ) {
			/* translators: %s: the expected shipping date, such as "12 March". */
			$message = sprintf( __( 'Ships around %s', 'woocommerce-backorder-eta' ), $this->format_date( $last, $last_style ) );
		} else {
			$message = sprintf(
				/* translators: 1: the first day of the range, such as "12" or "28 February"; 2: the last day, such as "16 March". */
				__( 'Expected between %1$s and %2$s', 'woocommerce-backorder-eta' ),
				$this->format_date( $first, $this->range_start_style( $first, $last ) ),
				$this->format_date( $last, $last_style )
			);
		}

		/**
		 * Filters the expected-shipping sentence before it is escaped and shown.
		 *
		 * @param string          $message The sentence.
		 * @param array           $eta     The connector's dates (keys eta, earliest, latest, text).
		 * @param WC_Product|null $product The product on the storefront, null for an order line.
		 */
		return (string) apply_filters( 'backorder_eta_message', $message, $eta, $product );
	}

	/**
	 * How much of the first date a range needs: the day alone within one month ("12 and 16 March"), the
	 * month too within one year, and the year across years.
	 *
	 * @param string $first Y-m-d.
	 * @param string $last  Y-m-d.
	 * @return string 'day', 'day_month' or 'day_month_year'.
	 */
	private function range_start_style( $first, $last ) {
		if ( substr( $first, 0, 4 ) !== substr( $last, 0, 4 ) ) {
			return 'day_month_year';
		}
		return substr( $first, 0, 7 ) === substr( $last, 0, 7 ) ? 'day' : 'day_month';
	}

	/**
	 * Formats a date in the language being rendered (month names come from WordPress's locale).
	 *
	 * @param string $date  Y-m-d.
	 * @param string $style 'day', 'day_month' or 'day_month_year'.
	 * @return string
	 */
	private function format_date( $date, $style ) {
		$timezone = wp_timezone();
		$moment   = DateTimeImmutable::createFromFormat( '!Y-m-d', $date, $timezone );
		if ( 'day' === $style ) {
			/* translators: PHP date format of the first day of a range within one month, see https://www.php.net/manual/datetime.format.php */
			$format = _x( 'j', 'range start day', 'woocommerce-backorder-eta' );
		} elseif ( 'day_month_year' === $style ) {
			/* translators: PHP date format of a shipping date in another year, see https://www.php.net/manual/datetime.format.php */
			$format = _x( 'j F Y', 'shipping date with year', 'woocommerce-backorder-eta' );
		} else {
			/* translators: PHP date format of a shipping date, see https://www.php.net/manual/datetime.format.php */
			$format = _x( 'j F', 'shipping date', 'woocommerce-backorder-eta' );
		}
		return wp_date( $format, $moment->getTimestamp(), $timezone );
	}

	/**
	 * A Y-m-d date that exists, or ''.
	 *
	 * @param mixed $value A meta value.
	 * @return string
	 */
	private function valid_date( $value ) {
		if ( ! is_string( $value ) || ! preg_match( '/^(\d{4})-(\d{2})-(\d{2})$/', $value, $parts ) ) {
			return '';
		}
		return checkdate( (int) $parts[2], (int) $parts[3], (int) $parts[1] ) ? $value : '';
	}

	/**
	 * Whether the page or email is rendered in the site's language: the merchant's text is written in it.
	 *
	 * @return bool
	 */
	private function in_site_language() {
		$site_locale = get_option( 'WPLANG' );
		return determine_locale() === ( $site_locale ? $site_locale : 'en_US' );
	}

	/**
	 * The sentence for an order line that was backordered at checkout, or ''.
	 *
	 * @param WC_Order_Item $item The order line.
	 * @return string
	 */
	private function order_item_message( $item ) {
		if ( ! $item instanceof WC_Order_Item_Product ) {
			return '';
		}
		$eta = $this->read_eta( $item );
		return null === $eta ? '' : $this->message( $eta );
	}
}
