<?php
/**
 * Stand-ins for the few WordPress and WooCommerce functions and classes the plugin calls, so PHPUnit can load
 * it without a WordPress install. Hooks are recorded, translations come from the plugin's own .po file for
 * the current locale, and dates are formatted with month names of that locale, as WordPress does.
 *
 * @package WooCommerce_Backorder_ETA
 */

define( 'ABSPATH', __DIR__ . '/' );
define( 'BACKORDER_ETA_PLUGIN_DIR', dirname( __DIR__, 3 ) . '/extensions/woocommerce-backorder-eta' );

/**
 * Everything the stand-ins remember; reset by reset_wordpress() before each test.
 */
final class WP_Test_State {
	/** @var array<string, list<array{callback: callable, priority: int, accepted_args: int}>> */
	public static $hooks = array();
	/** @var string */
	public static $locale = 'en_US';
	/** @var string */
	public static $site_locale = '';
	/** @var int */
	public static $now = 0;
	/** @var string */
	public static $timezone = 'UTC';
	/** @var array<string, array<string, string>> */
	public static $translations = array();
	/** @var array<int, WC_Product> */
	public static $products = array();
	/** @var list<array{string, bool, string}> */
	public static $textdomains = array();
	/** @var array<string, list<array{callback: callable, priority: int, accepted_args: int}>> Hooks the plugin file added when loaded. */
	public static $hooks_at_load = array();
}

/**
 * Back to a fresh site: English, no hooks, the clock at 2 March 2026 09:30 UTC.
 */
function reset_wordpress() {
	WP_Test_State::$hooks       = array();
	WP_Test_State::$locale      = 'en_US';
	WP_Test_State::$site_locale = '';
	WP_Test_State::$now         = gmmktime( 9, 30, 0, 3, 2, 2026 );
	WP_Test_State::$timezone    = 'Europe/Berlin';
	WP_Test_State::$products    = array();
	WP_Test_State::$textdomains = array();
}

function add_filter( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	WP_Test_State::$hooks[ $hook ][] = array(
		'callback'      => $callback,
		'priority'      => $priority,
		'accepted_args' => $accepted_args,
	);
	return true;
}

function add_action( $hook, $callback, $priority = 10, $accepted_args = 1 ) {
	return add_filter( $hook, $callback, $priority, $accepted_args );
}

function apply_filters( $hook, $value, ...$args ) {
	$callbacks = WP_Test_State::$hooks[ $hook ] ?? array();
	usort( $callbacks, fn( $a, $b ) => $a['priority'] <=> $b['priority'] );
	foreach ( $callbacks as $registered ) {
		$value = call_user_func_array( $registered['callback'], array_slice( array_merge( array( $value ), $args ), 0, $registered['accepted_args'] ) );
	}
	return $value;
}

function load_plugin_textdomain( $domain, $deprecated = false, $plugin_rel_path = '' ) {
	WP_Test_State::$textdomains[] = array( $domain, $deprecated, $plugin_rel_path );
	return true;
}

function plugin_basename( $file ) {
	return basename( dirname( $file ) ) . '/' . basename( $file );
}

function determine_locale() {
	return WP_Test_State::$locale;
}

function get_option( $name, $default_value = false ) {
	return 'WPLANG' === $name ? WP_Test_State::$site_locale : $default_value;
}

/**
 * The plugin's translations for a locale, read from its .po file (single-line entries, as the plugin's are).
 */
function backorder_eta_test_translations( $locale ) {
	if ( ! isset( WP_Test_State::$translations[ $locale ] ) ) {
		$entries = array();
		$po      = BACKORDER_ETA_PLUGIN_DIR . "/languages/woocommerce-backorder-eta-{$locale}.po";
		if ( is_file( $po ) ) {
			$context = '';
			$msgid   = null;
			foreach ( file( $po, FILE_IGNORE_NEW_LINES ) as $line ) {
				if ( preg_match( '/^msgctxt "(.*)"$/', $line, $m ) ) {
					$context = stripcslashes( $m[1] );
				} elseif ( preg_match( '/^msgid "(.*)"$/', $line, $m ) ) {
					$msgid = stripcslashes( $m[1] );
				} elseif ( null !== $msgid && preg_match( '/^msgstr "(.*)"$/', $line, $m ) ) {
					if ( '' !== $msgid && '' !== $m[1] ) {
						$entries[ ( '' === $context ? '' : $context . "\4" ) . $msgid ] = stripcslashes( $m[1] );
					}
					$context = '';
					$msgid   = null;
				}
			}
		}
		WP_Test_State::$translations[ $locale ] = $entries;
	}
	return WP_Test_State::$translations[ $locale ];
}

function backorder_eta_test_translate( $key, $text, $domain ) {
	if ( 'woocommerce-backorder-eta' !== $domain ) {
		throw new LogicException( "unexpected text domain {$domain}" );
	}
	$translations = backorder_eta_test_translations( WP_Test_State::$locale );
	return $translations[ $key ] ?? $text;
}

function __( $text, $domain = 'default' ) {
	return backorder_eta_test_translate( $text, $text, $domain );
}

function _x( $text, $context, $domain = 'default' ) {
	return backorder_eta_test_translate( $context . "\4" . $text, $text, $domain );
}

function esc_html( $text ) {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_html__( $text, $domain = 'default' ) {
	return esc_html( __( $text, $domain ) );
}

function wp_strip_all_tags( $text ) {
	return trim( strip_tags( preg_replace( '@<(script|style)[^>]*?>.*?</\\1>@si', '', (string) $text ) ) );
}

function wp_timezone() {
	return new DateTimeZone( WP_Test_State::$timezone );
}

/**
 * WordPress's wp_date(): PHP date formats, with month names from the current locale.
 */
function wp_date( $format, $timestamp = null, $timezone = null ) {
	$months = array(
		'en_US' => array( 'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December' ),
		'de_DE' => array( 'Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember' ),
	);
	$names  = $months[ WP_Test_State::$locale ] ?? $months['en_US'];
	$moment = ( new DateTimeImmutable( '@' . ( null === $timestamp ? WP_Test_State::$now : $timestamp ) ) )
		->setTimezone( $timezone ? $timezone : wp_timezone() );
	$out    = '';
	for ( $i = 0, $n = strlen( $format ); $i < $n; $i++ ) {
		$char = $format[ $i ];
		if ( '\\' === $char && $i + 1 < $n ) {
			$out .= $format[ ++$i ];
		} elseif ( 'F' === $char ) {
			$out .= $names[ (int) $moment->format( 'n' ) - 1 ];
		} else {
			$out .= $moment->format( $char );
		}
	}
	return $out;
}

function wc_get_product( $id ) {
	return WP_Test_State::$products[ $id ] ?? false;
}

/**
 * WooCommerce's meta store on its data objects (products, order lines).
 */
abstract class WC_Data {
	/** @var array<string, list<mixed>> */
	public $meta = array();

	public function get_meta( $key, $single = true ) {
		$values = $this->meta[ $key ] ?? array();
		if ( $single ) {
			return $values ? $values[0] : '';
		}
		return $values;
	}

	public function add_meta_data( $key, $value, $unique = false ) {
		if ( $unique ) {
			$this->meta[ $key ] = array();
		}
		$this->meta[ $key ][] = $value;
	}
}

/**
 * A product or variation with WooCommerce's stock rules (manage_stock may be 'parent' on a variation).
 */
class WC_Product extends WC_Data {
	public $id;
	public $type;
	public $parent_id      = 0;
	public $manage_stock   = true;
	public $stock_quantity = 0;
	public $backorders     = 'no';

	public function __construct( $id, $type = 'simple', array $props = array(), array $meta = array() ) {
		$this->id   = $id;
		$this->type = $type;
		foreach ( $props as $name => $value ) {
			$this->$name = $value;
		}
		foreach ( $meta as $key => $value ) {
			$this->add_meta_data( $key, $value, true );
		}
		WP_Test_State::$products[ $id ] = $this;
	}

	public function get_id() {
		return $this->id;
	}

	public function get_parent_id() {
		return $this->parent_id;
	}

	public function is_type( $type ) {
		return $this->type === $type;
	}

	public function get_manage_stock() {
		return $this->manage_stock;
	}

	private function stock_holder() {
		return 'parent' === $this->manage_stock ? wc_get_product( $this->parent_id ) : $this;
	}

	public function managing_stock() {
		return (bool) $this->stock_holder()->manage_stock;
	}

	public function backorders_allowed() {
		return in_array( $this->stock_holder()->backorders, array( 'yes', 'notify' ), true );
	}

	public function get_stock_status() {
		$holder = $this->stock_holder();
		if ( ! $holder->manage_stock || $holder->stock_quantity > 0 ) {
			return 'instock';
		}
		return $this->backorders_allowed() ? 'onbackorder' : 'outofstock';
	}

	public function is_on_backorder( $qty_in_cart = 0 ) {
		if ( 'onbackorder' === $this->get_stock_status() ) {
			return true;
		}
		return $this->managing_stock() && $this->backorders_allowed() && ( $this->stock_holder()->stock_quantity - $qty_in_cart ) < 0;
	}
}

class WC_Order_Item extends WC_Data {
}

class WC_Order_Item_Product extends WC_Order_Item {
}

class WC_Order_Item_Shipping extends WC_Order_Item {
}

class WC_Order {
}

reset_wordpress();
require BACKORDER_ETA_PLUGIN_DIR . '/woocommerce-backorder-eta.php';
WP_Test_State::$hooks_at_load = WP_Test_State::$hooks;
